"""One message from the back office to the broker, for the operator commands (and, for commands
a device answers, the wait for that answer)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from backoffice.config import BackofficeConfig
from uplink.session import make_client

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What became of a command: `problem` (the broker's side failed), else the device's
    `answer` (None when none came in time)."""

    problem: str | None = None
    answer: T | None = None


def publish_once(
    config: BackofficeConfig, topic: str, body: bytes, *, retain: bool, timeout_s: float = 10.0
) -> str | None:
    """Connect as the back office, publish at QoS 1 and wait for the broker's answer.

    Returns:
        None when the broker accepted the message, else what went wrong and what to check.
    """
    return publish_and_await(config, topic, body, retain=retain, timeout_s=timeout_s).problem


def publish_and_await(
    config: BackofficeConfig,
    topic: str,
    body: bytes,
    *,
    retain: bool,
    timeout_s: float = 10.0,
    listen: str | None = None,
    answer: Callable[[bytes], T | None] | None = None,
    answer_timeout_s: float = 0.0,
) -> Outcome[T]:
    """Publish like `publish_once`; with `listen` and `answer`, first subscribe to `listen` and
    then wait up to `answer_timeout_s` for a message that `answer` turns into a value.

    `answer` gets every message on `listen` (hostile bytes: it must parse, never raise) and
    returns None for those that are not the answer.
    """
    broker = config.broker
    client = make_client(f"backoffice-cli-{config.receiver.receiver_id}", broker)
    client.on_socket_register_write = None  # paho's loop thread writes
    published, subscribed, answered = threading.Event(), threading.Event(), threading.Event()
    reasons: list[ReasonCode] = []
    answers: list[T] = []

    def on_publish(_c: object, _u: object, _mid: int, reason: ReasonCode, _p: object) -> None:
        reasons.append(reason)
        published.set()

    def on_subscribe(
        _c: object, _u: object, _mid: int, codes: list[ReasonCode], _p: object
    ) -> None:
        reasons.extend(code for code in codes if code.is_failure)
        subscribed.set()

    def on_message(_c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        if answer is None or answered.is_set():
            return
        value = answer(bytes(message.payload))
        if value is not None:
            answers.append(value)
            answered.set()

    client.on_publish = on_publish
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    where = f"{broker.host}:{broker.port}"
    try:
        client.connect(broker.host, broker.port)
    except OSError as exc:
        return Outcome(f"cannot reach the broker at {where} ({exc})")
    client.loop_start()
    try:
        if listen is not None:
            # Listen before asking: an answer can come back faster than our next packet.
            client.subscribe(listen, qos=1)
            if not subscribed.wait(timeout_s):
                return Outcome(f"no answer from the broker at {where}")
            if reasons:
                return Outcome(f"the broker refused a subscription to {listen}: {reasons[0]}")
        client.publish(topic, body, qos=1, retain=retain)
        if not published.wait(timeout_s):
            return Outcome(f"no answer from the broker at {where}")
        if reasons[0].is_failure:
            return Outcome(
                f"the broker refused {topic}: {reasons[0]}; check the certificate and the ACL"
            )
        if listen is not None and answered.wait(answer_timeout_s):
            return Outcome(answer=answers[0])
        return Outcome()
    finally:
        client.disconnect()
        client.loop_stop()
