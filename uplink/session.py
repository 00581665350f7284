"""The device's MQTT session: drains the outbox to the back office and removes what it acks.

Threads (both owned here; callbacks never block on a lock the publisher holds):

- the network thread runs paho's loop, connects with exponential backoff and full jitter, and
  turns paho callbacks into queued facts (PUBACKs, app acks, session up/down);
- the sender thread records heartbeats and feeds those facts to `uplink.sender.Sender`, which
  reads pending rows from the outbox in order, keeps at most `inflight_window` publishes awaiting
  PUBACK on the wire and a few windows more queued in paho (SQLite is the queue, not paho),
  re-sends what the back office has not acked in time (`uplink.pacing`), and re-walks the outbox
  after every reconnect. A re-sent event keeps its event id; the back office stores it once.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import logging
import random
import socket
import threading
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from uplink import batches, topics
from uplink.clock import Clock, SystemClock, utc_iso
from uplink.config import BrokerConfig, UplinkConfig
from uplink.errors import MessageError, StorageError
from uplink.messages import Envelope, validate
from uplink.outbox import Outbox
from uplink.sender import HANDED_WINDOWS, Sender, UplinkStats

logger = logging.getLogger(__name__)


def _software_version() -> str:
    """This installation's version, from the package metadata (what the wheel was built as)."""
    try:
        return importlib.metadata.version("lapak-asik-appliance")[:40]
    except importlib.metadata.PackageNotFoundError:  # running from a source tree, not installed
        return "unknown"


SOFTWARE_VERSION = _software_version()
UNREACHABLE_LOG_EVERY_S = 60.0  # an unreachable broker is warned about at most this often
STORAGE_LOG_EVERY_S = 60.0  # a storage fault that persists is logged again this often
# A loop that has not come round for this long past its own expected wait has really stopped.
STALL_GRACE_S = 120.0
MessageHandler = Callable[[str, bytes], None]
AckListener = Callable[[list[str]], None]


class Backoff:
    """Exponential backoff with full jitter: a random delay in [min, min*2^n], capped at max."""

    def __init__(self, min_s: float, max_s: float, rng: random.Random | None = None):
        self._min, self._max = min_s, max_s
        self._attempt = 0
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security

    def next_delay(self) -> float:
        ceiling = min(self._max, self._min * (2**self._attempt))
        self._attempt = min(self._attempt + 1, 30)
        return self._rng.uniform(self._min, ceiling)

    def reset(self) -> None:
        self._attempt = 0


def make_client(client_id: str, broker: BrokerConfig) -> mqtt.Client:
    """A paho 2.x MQTT v5 client with TLS client certificates (or a loopback username)."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
    )
    if broker.tls:
        client.tls_set(
            ca_certs=str(broker.ca_file),
            certfile=str(broker.cert_file),
            keyfile=str(broker.key_file),
        )
    elif broker.username:
        client.username_pw_set(broker.username, broker.password)
    # Events and acks are small and latency-bound: without this, Nagle's algorithm holds each
    # one back until the peer's delayed ACK (tens of ms per hop).
    client.on_socket_open = _no_delay
    # Publishing threads must not write to the socket themselves (two writers would interleave
    # packets); with this hook set, paho only queues and wakes our network thread.
    client.on_socket_register_write = lambda *_: None
    return client


def _no_delay(_client: mqtt.Client, _userdata: Any, sock: Any) -> None:
    with contextlib.suppress(OSError, AttributeError):  # not a TCP socket (unix, websocket)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def connect_properties(session_expiry_s: int) -> Properties:
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = session_expiry_s
    return props


class Uplink:
    """A device's durable link to the back office.

    `record()` commits an event to the outbox and returns; delivery happens in the background
    until the back office acknowledges it. Start with `start()`, end with `stop()`.
    """

    def __init__(
        self,
        config: UplinkConfig,
        *,
        outbox: Outbox | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.device_id = config.device_id
        self._clock = clock or SystemClock()
        # The TLS files first: if they fail, no outbox was opened that nothing would close.
        self._client = make_client(config.device_id, config.broker)
        self.outbox = outbox or Outbox(
            config.outbox_path, config.device_id, clock=self._clock, max_mb=config.outbox_max_mb
        )
        self.stats = UplinkStats()
        self._backoff = Backoff(config.reconnect_min_s, config.reconnect_max_s, rng)
        # paho's own cap (20 by default) would keep fewer publishes on the wire than the
        # sender's window allows; it must be set before connecting.
        self._client.max_inflight_messages_set(config.inflight_window)
        self._client.will_set(topics.status(self.device_id), _status(False), qos=1, retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._client.on_message = self._on_message

        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._drained = threading.Condition()
        self._threads: list[threading.Thread] = []
        # Facts from paho's callbacks, consumed by the sender thread.
        self._pubacks: deque[tuple[int, ReasonCode]] = deque()
        # The sender is woken once half of what it handed paho is PUBACKed (see _on_publish):
        # paho still has a full wire and as much again queued while the sender refills.
        self._puback_wake_batch = max(1, HANDED_WINDOWS * config.inflight_window // 2)
        self._acked: deque[str] = deque()
        # Most events per publish the back office's acks offer this session (uplink.batches).
        self._batch_max = 1
        # Whether an ack should wake the sender: only while the unacked window is what holds it
        # back (a wake-up per ack message cost the network thread a sixth of its time while
        # paho's window was the limit). Written by the sender thread after each round.
        self._acks_wake_sender = True
        self._session = 0  # bumped on every session up/down
        self._ack_sub_mid: int | None = None
        self._ready = False
        self._subscriptions: dict[str, MessageHandler] = {}
        self._ack_listeners: list[AckListener] = []
        self._state: bytes | None = None
        self._started_at = self._clock.monotonic()
        self._unreachable_attempts = 0
        self._unreachable_logged_at = -UNREACHABLE_LOG_EVERY_S
        # Liveness: each loop says by when it will come round again (see `alive`).
        self._due: dict[str, float] = {}
        self._storage_logged: dict[str, float] = {}  # what -> when last logged
        self.storage_fault: str | None = None
        """The outbox's last storage error, until an operation on it succeeds again."""

    # -- public API ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the network and sender threads (idempotent)."""
        if self._threads:
            return
        for name, target in (("net", self._network_loop), ("send", self._send_loop)):
            thread = threading.Thread(target=target, name=f"uplink-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        """Say goodbye (retained offline status), disconnect and join the threads."""
        if self._ready:
            self._client.publish(topics.status(self.device_id), _status(False), qos=1, retain=True)
        self._stopping.set()
        self._wake.set()
        self._client.disconnect()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        # The goodbye flush's last loop() opens a fresh wake-up socket pair that paho never
        # closes once the connection is gone; no thread uses the client any more.
        self._client._reset_sockets(sockpair_only=True)
        self.outbox.close()

    def record(
        self,
        type_name: str,
        payload: Mapping[str, Any],
        *,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
    ) -> Envelope:
        """Durably record an event, then let the sender deliver it. See `Outbox.record`."""
        envelope = self.outbox.record(
            type_name, payload, occurred_at=occurred_at, event_id=event_id
        )
        self._wake.set()
        return envelope

    def publish_state(self, state: Mapping[str, Any]) -> None:
        """Set the device's retained state message; re-published after every reconnect.

        Raises:
            MessageError: `state` lacks `summary` or `alerts` (see state.v1.json).
        """
        validate("state.v1.json", state)
        self._state = json.dumps(dict(state), separators=(",", ":")).encode()
        if self._ready:
            self._client.publish(topics.state(self.device_id), self._state, qos=1, retain=True)

    def subscribe(self, topic_filter: str, handler: MessageHandler) -> None:
        """Deliver messages on `topic_filter` to `handler(topic, payload)` (network thread)."""
        self._subscriptions[topic_filter] = handler
        if self._ready:
            self._client.subscribe(topic_filter, qos=1)

    def add_ack_listener(self, listener: AckListener) -> None:
        """Call `listener(event_ids)` after acked events are removed from the outbox."""
        self._ack_listeners.append(listener)

    @property
    def connected(self) -> bool:
        """True once the broker accepted us and our ack subscription is in place."""
        return self._ready

    def pending(self) -> int:
        return self.outbox.pending()

    def alive(self) -> bool:
        """True while both uplink threads run and come round in time (for the watchdog).

        An app feeds systemd's watchdog only while this holds, so an uplink that has really
        stopped gets the service restarted. Before `start()`, and after `stop()`, it is True.
        """
        if not self._threads or self._stopping.is_set():
            return True
        now = self._clock.monotonic()
        for thread in self._threads:
            if not thread.is_alive():
                return False
        return all(now <= due for due in self._due.values())

    def _come_round_by(self, loop: str, wait_s: float) -> None:
        self._due[loop] = self._clock.monotonic() + wait_s + STALL_GRACE_S

    def _storage_trouble(self, what: str, exc: StorageError) -> None:
        """Log a storage fault once, then at most every STORAGE_LOG_EVERY_S (no log floods)."""
        now = self._clock.monotonic()
        self.storage_fault = str(exc)
        last = self._storage_logged.get(what)
        if last is None or now - last >= STORAGE_LOG_EVERY_S:
            self._storage_logged[what] = now
            logger.error("%s: %s; will retry", what, exc)

    def _storage_ok(self, what: str) -> None:
        if self._storage_logged.pop(what, None) is not None:
            logger.warning("%s works again", what)
        if not self._storage_logged:
            self.storage_fault = None

    def wait_drained(self, timeout: float) -> bool:
        """Block until the outbox is empty (for simulations, tests and benchmarks)."""
        with self._drained:
            return self._drained.wait_for(self.outbox.is_empty, timeout)

    # -- network thread -----------------------------------------------------------------------

    def _network_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._one_connection()
            except Exception:  # loop boundary: the network thread must outlive any bug
                logger.exception("uplink network loop failed; reconnecting")
                with contextlib.suppress(Exception):
                    self._client.disconnect()
                self._session_down()
                delay = self._backoff.next_delay()
                self._come_round_by("net", delay)
                self._stopping.wait(delay)
        # Flush the goodbye and DISCONNECT queued by stop().
        try:
            for _ in range(10):
                if self._client.loop(timeout=0.05) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    break
        except Exception:  # stopping anyway: the broker's will says we are gone
            logger.debug("uplink goodbye not flushed", exc_info=True)

    def _one_connection(self) -> None:
        """Connect, run paho's loop until the connection ends, then wait the backoff delay."""
        broker = self.config.broker
        self._come_round_by("net", broker.keepalive_s)
        try:
            self._client.connect(
                broker.host,
                broker.port,
                keepalive=broker.keepalive_s,
                clean_start=False,
                properties=connect_properties(self.config.session_expiry_s),
            )
        except OSError as exc:
            delay = self._backoff.next_delay()
            self._say_unreachable(f"{broker.host}:{broker.port}", exc, delay)
            self._come_round_by("net", delay)
            self._stopping.wait(delay)
            return
        while not self._stopping.is_set():
            self._come_round_by("net", 1.0)
            if self._client.loop(timeout=1.0) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                break
        self._session_down()
        if not self._stopping.is_set():
            delay = self._backoff.next_delay()
            self._come_round_by("net", delay)
            self._stopping.wait(delay)

    def _say_unreachable(self, where: str, exc: OSError, delay: float) -> None:
        """Warn that the broker is unreachable once, then at most every UNREACHABLE_LOG_EVERY_S
        (with the count), so a long outage does not flood a console (a keyboard simulation's
        prompt); every attempt is still logged at debug level."""
        now = self._clock.monotonic()
        self._unreachable_attempts += 1
        if now - self._unreachable_logged_at >= UNREACHABLE_LOG_EVERY_S:
            attempts = self._unreachable_attempts
            logger.warning(
                "cannot reach broker %s (%s); events stay in the outbox; retrying%s",
                where,
                exc,
                "" if attempts == 1 else f" ({attempts} attempts so far)",
            )
            self._unreachable_logged_at = now
        else:
            logger.debug("cannot reach broker %s (%s); retrying in %.1f s", where, exc, delay)

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: ReasonCode, _props: Any
    ) -> None:
        self._unreachable_attempts, self._unreachable_logged_at = 0, -UNREACHABLE_LOG_EVERY_S
        if reason.is_failure:
            logger.error(
                "broker refused the connection: %s; check this device's certificate and the "
                "broker's ACL",
                reason,
            )
            return
        self.stats.connects += 1
        self._ack_sub_mid = client.subscribe(topics.ack(self.device_id), qos=1)[1]
        for topic_filter in self._subscriptions:
            client.subscribe(topic_filter, qos=1)

    def _on_subscribe(
        self, client: mqtt.Client, _u: Any, mid: int, codes: list[ReasonCode], _p: Any
    ) -> None:
        if mid != self._ack_sub_mid:
            return
        if any(code.is_failure for code in codes):
            # Keep going: events still leave, and the ACL's verdict on them shows in the log.
            logger.error(
                "broker refused our ack subscription (%s): device_id %r must equal the "
                "certificate's CN",
                codes[0],
                self.device_id,
            )
        # Only now can acks reach us: start sending.
        extra: dict[str, Any] = {"storage_full": self._storage_full()}
        if (pending := self._pending_or_none()) is not None:
            extra["pending"] = pending
        status = _status(True, **extra)
        client.publish(topics.status(self.device_id), status, qos=1, retain=True)
        if self._state is not None:
            client.publish(topics.state(self.device_id), self._state, qos=1, retain=True)
        self._backoff.reset()
        self._batch_max = 1  # a new session may reach another back office: it says again
        self._session += 1
        self._ready = True
        logger.info("uplink connected; %s events pending", self._pending_or_none())
        self._wake.set()

    def _on_disconnect(self, *_args: Any) -> None:
        self._session_down()

    def _session_down(self) -> None:
        if self._ready:
            if self._stopping.is_set():
                logger.debug("uplink disconnected (stopping)")
            else:
                logger.warning("uplink disconnected; events stay in the outbox")
            self._ready = False
            self._batch_max = 1
            self._session += 1
            self._wake.set()

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, reason: ReasonCode, _p: Any) -> None:
        self._pubacks.append((mid, reason))
        # A PUBACK only frees a slot of what paho holds (paho itself sends the next queued
        # publish): waking the sender for each one cost a thread switch per event while
        # draining. It is woken once half of it is free (or by an ack, a record, or its own
        # timer, at most a second later); a refusal is logged at once.
        if (
            reason.is_failure or len(self._pubacks) >= self._puback_wake_batch
        ) and not self._wake.is_set():
            self._wake.set()

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        if message.topic == topics.ack(self.device_id):
            self._handle_ack(bytes(message.payload), batches.offered_max(message.properties))
            return
        for topic_filter, handler in self._subscriptions.items():
            if mqtt.topic_matches_sub(topic_filter, message.topic):
                try:
                    handler(message.topic, bytes(message.payload))
                except Exception:  # a failing subscriber must not stop the uplink
                    logger.exception("handler for %s failed", topic_filter)

    def _handle_ack(self, raw: bytes, batch_max: int = 1) -> None:
        try:
            ack = json.loads(raw)
            validate("ack.v1.json", ack)
        except (ValueError, MessageError) as exc:
            logger.warning("ignoring malformed ack: %s", exc)
            return
        self._batch_max = batch_max
        ids: list[str] = ack["acked"]
        try:
            removed = self.outbox.ack(ids)
        except StorageError as exc:
            # The rows stay: they expire, are re-sent, and the back office acks them again
            # once the delete can be written.
            self._storage_trouble("removing acked events", exc)
            return
        self._storage_ok("removing acked events")
        self.stats.acked += removed
        self._acked.extend(ids)
        # The sender writes its flag before it looks at _acked, and this reads the flag after
        # adding to it: one of the two always sees the other, so no ack is left waiting.
        if self._acks_wake_sender:
            self._wake.set()
        for listener in self._ack_listeners:
            try:
                listener(ids)
            except Exception:
                logger.exception("ack listener failed")
        with self._drained:
            self._drained.notify_all()

    # -- sender thread ------------------------------------------------------------------------

    def _send_loop(self) -> None:
        sender = Sender(self.outbox, self._publish_event, self._clock, self.config, self.stats)
        session = -1
        next_heartbeat = self._clock.monotonic()
        failures = 0
        while not self._stopping.is_set():
            wait_s = sender.next_wakeup_s()
            self._come_round_by("send", wait_s)
            self._wake.wait(timeout=wait_s)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                next_heartbeat = self._heartbeat(next_heartbeat)
                if self._session != session:
                    session = self._session
                    sender.new_session()
                sender.batch_max = self._batch_max
                while self._pubacks:
                    sender.on_puback(*self._pubacks.popleft())
                while self._acked:
                    sender.on_acked(self._acked.popleft())
                if self._ready:
                    sender.send()
                self._acks_wake_sender = sender.waits_for_acks()
                if self._acks_wake_sender and self._acked:
                    self._wake.set()  # acks came in while it sent: take them in at once
                self._storage_ok("reading the outbox")
                failures = 0
            except StorageError as exc:
                self._acks_wake_sender = True
                self._storage_trouble("reading the outbox", exc)
                self._stopping.wait(1.0)
            except Exception:  # loop boundary: log, keep the device serving
                self._acks_wake_sender = True
                failures += 1
                if failures == 1 or failures % 600 == 0:
                    logger.exception("uplink sender failed (%d in a row); will retry", failures)
                self._stopping.wait(1.0)

    def _publish_event(self, body: bytes) -> int | None:
        info = self._client.publish(topics.events(self.device_id), body, qos=1)
        return info.mid if info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS else None

    def _heartbeat(self, due: float) -> float:
        """Record a heartbeat when one is due; returns when the next one is."""
        interval = self.config.heartbeat_interval_s
        now = self._clock.monotonic()
        if interval <= 0 or now < due:
            return due
        try:
            self.outbox.record(
                "device.heartbeat",
                {"uptime_s": round(now - self._started_at, 1), "pending": self.outbox.pending()},
            )
        except StorageError as exc:
            # A heartbeat is telemetry: skip this one, keep sending what is stored.
            self._storage_trouble("recording a heartbeat", exc)
        else:
            self._storage_ok("recording a heartbeat")
        return now + interval

    def _pending_or_none(self) -> int | None:
        try:
            return self.outbox.pending()
        except StorageError as exc:
            self._storage_trouble("reading the outbox", exc)
            return None

    def _storage_full(self) -> bool:
        return self.outbox.storage_full or self.storage_fault is not None


def _status(online: bool, **extra: Any) -> bytes:
    body: dict[str, Any] = {"schema_version": 1, "online": online}
    if online:
        body.update(extra, software=SOFTWARE_VERSION, at=utc_iso(datetime.now().astimezone()))
    return json.dumps(body, separators=(",", ":")).encode()
