"""Admit identities on a running broker through the dynamic-security plugin's `$CONTROL` topic."""

from __future__ import annotations

import json
import logging
import queue
import threading
from typing import Any

from paho.mqtt.client import MQTTMessage

from provisioning import access
from provisioning.errors import ProvisionError
from uplink.config import BrokerConfig
from uplink.session import make_client

logger = logging.getLogger(__name__)

# Answers that mean "already so": admitting is idempotent.
_ALREADY = ("Role already exists", "Client already exists")


class BrokerAdminError(ProvisionError, RuntimeError):
    """The broker did not take an admin command; the message says which and why."""


class BrokerAdmin:
    """A connection with an operator's certificate that admits identities live.

    The broker's file (rendered by provisioning) stays the truth at start-up; this adds clients
    to a running broker without restarting it (the plugin saves them to its file when it can).
    """

    def __init__(self, operator: BrokerConfig, *, timeout_s: float = 20.0) -> None:
        self._timeout_s = timeout_s
        self._responses: queue.Queue[dict[str, Any]] = queue.Queue()
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        # The client id is the certificate's name anyway (use_username_as_clientid).
        self._client = make_client("operator", operator)
        self._client.on_socket_register_write = None  # paho's loop thread writes
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = lambda *_: self._subscribed.clear()
        self._client.on_message = self._on_message
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.connect_async(operator.host, operator.port)
        self._client.loop_start()

    def admit(self, identity: str, password: str | None = None) -> None:
        """Give `identity` the roles of its kind (`access.kind_of`) on the running broker."""
        if not access.roles_of(identity):
            return
        body = json.dumps({"commands": access.control_commands(identity, password)}).encode()
        with self._lock:
            answer = self._ask(body) or self._ask(body)  # once more after a reconnect
        if answer is None:
            raise BrokerAdminError(f"no answer from the broker admitting {identity}")
        for response in answer.get("responses", []):
            error = response.get("error")
            if error and error not in _ALREADY:
                raise BrokerAdminError(f"{response.get('command')} for {identity}: {error}")

    def _ask(self, body: bytes) -> dict[str, Any] | None:
        if not self._subscribed.wait(self._timeout_s):
            return None
        while not self._responses.empty():
            self._responses.get_nowait()
        self._client.publish(access.CONTROL_TOPIC, body, qos=1)
        try:
            return self._responses.get(timeout=self._timeout_s)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        self._client._reset_sockets()  # paho leaves its wake-up socket pair open

    def _on_connect(self, client: Any, _u: object, _f: object, reason: Any, _p: object) -> None:
        # Subscribed on every connect: a broker restart forgets a clean session's subscription.
        if not reason.is_failure:
            client.subscribe(f"{access.CONTROL_TOPIC}/response", qos=1)

    def _on_message(self, _c: object, _u: object, message: MQTTMessage) -> None:
        try:
            answer = json.loads(message.payload)
        except ValueError:
            logger.warning("unreadable answer on %s", message.topic)
            return
        if isinstance(answer, dict):
            self._responses.put(answer)
