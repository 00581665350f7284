"""The reference receiver: store each event once, commit, and only then ack it to its device."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from backoffice.config import BackofficeConfig
from backoffice.rejects import Reject, RejectGate
from backoffice.store import EventStore
from uplink import batches, topics
from uplink.clock import utc_iso
from uplink.errors import MessageError, TopicError
from uplink.messages import Envelope, parse_json, validate
from uplink.session import connect_properties, make_client

logger = logging.getLogger(__name__)

ACK_CHUNK = 5000
# Most message bytes parsed in one turn of the store loop: batched messages (uplink.batches)
# carry up to 100 events each, so a count of messages alone would not bound its memory.
TAKEN_BYTES_MAX = 8 * 1024 * 1024
PROGRESS_S = 5.0
STOP_REMIND_S = 10.0  # a stop still waiting for the store says so this often
# The broker keeps a receiver's share of the events while it restarts (or while the broker
# itself restarts). A receiver that never returns strands its share until this expires; devices
# re-send whatever is not acked, so nothing is lost either way.
SESSION_EXPIRY_S = 120
_EVENT_ID = re.compile(r'"event_id"\s*:\s*"([0-7][0-9A-HJKMNP-TV-Z]{25})"')
_Message = tuple[str, bytes]


class Receiver:
    """Subscribes to all device events (shared subscription), stores them idempotently in
    batches, and publishes one application ack per device per batch after the commit. Its acks
    say it reads batched event messages (uplink.batches), so draining devices send them.
    """

    def __init__(
        self,
        config: BackofficeConfig,
        store: EventStore,
        *,
        on_progress: Callable[[], object] | None = None,
        rejects: RejectGate | None = None,
    ) -> None:
        """`on_progress` is called from the store loop at least every PROGRESS_S seconds while
        it is healthy (the service's systemd watchdog); `rejects` bounds what bad messages cost
        (per device: stored so many a minute, logged once a minute)."""
        self.config = config
        self.store = store
        self._on_progress = on_progress
        self.stored = 0
        self.duplicates = 0
        self.rejected = 0
        self._rejects = rejects or RejectGate()
        # paho's thread appends, the store thread takes whole batches; the event wakes the store
        # thread once per batch (a queue.Queue took two locks per message on each side).
        self._inbox: deque[_Message | None] = deque()
        self._arrived = threading.Event()
        self._ready = threading.Event()
        self._client = make_client(f"backoffice-{config.receiver.receiver_id}", config.broker)
        # A few receivers per fleet: retrying every second costs nothing, and devices that
        # reconnected first are waiting for us (their first events were dropped, see Pacing).
        self._client.reconnect_delay_set(1, 1)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._client.on_disconnect = self._on_disconnect
        self._client.on_connect_fail = self._on_connect_fail
        self._unreachable_said = False  # "cannot reach the broker" is said once per outage
        # paho's own loop thread does the writing here: allow publishes from our store thread.
        self._client.on_socket_register_write = None
        self._sub_mid: int | None = None
        self._ack_properties = batches.ack_properties()
        self._worker = threading.Thread(target=self._store_loop, name="receiver-store", daemon=True)

    def start(self) -> None:
        broker = self.config.broker
        logger.info(
            "receiver waiting for the broker at %s:%s (it retries every second)",
            broker.host,
            broker.port,
        )
        self._worker.start()
        self._client.connect_async(
            broker.host,
            broker.port,
            keepalive=broker.keepalive_s,
            clean_start=False,
            properties=connect_properties(SESSION_EXPIRY_S),
        )
        self._client.loop_start()

    def publish_retained(self, topic: str, body: bytes) -> None:
        """Publish a retained message as the back office (e.g. a branch's occupancy)."""
        self._client.publish(topic, body, qos=1, retain=True)

    def wait_ready(self, timeout: float) -> bool:
        """Block until the event subscription is confirmed by the broker."""
        return self._ready.wait(timeout)

    def stop(self) -> None:
        """Disconnect, then return once the store thread has finished its last batch: the
        caller closes the store next, and a store closed under a batch fails it."""
        self._ready.clear()  # our own goodbye: paho's on_disconnect must not call it a loss
        self._client.disconnect()
        self._client.loop_stop()
        self._inbox.append(None)
        self._arrived.set()
        while self._worker.is_alive():  # no time limit: systemd's TimeoutStopSec is the bound
            self._worker.join(STOP_REMIND_S)
            if self._worker.is_alive():
                logger.warning("receiver stopping: the store is still busy; waiting for it")

    # -- paho thread --------------------------------------------------------------------------

    def _on_connect_fail(self, _c: mqtt.Client, _u: Any) -> None:
        # paho retries every second: say it once, not every second, until it answers again.
        if not self._unreachable_said:
            broker = self.config.broker
            logger.warning(
                "cannot reach the broker at %s:%s; still trying (nothing is lost: devices keep "
                "their events until this receiver acks them)",
                broker.host,
                broker.port,
            )
            self._unreachable_said = True

    def _on_disconnect(self, *_args: Any) -> None:
        if self._ready.is_set():
            logger.warning("receiver lost the broker; reconnecting")
        self._ready.clear()

    def _on_connect(
        self, client: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any
    ) -> None:
        self._unreachable_said = False
        if reason.is_failure:
            logger.error("broker refused the receiver: %s; check its certificate", reason)
            return
        group = self.config.receiver.share_group
        self._sub_mid = client.subscribe(
            [(topics.all_events(group), 1), (topics.ALL_STATUS, 1), (topics.ALL_STATE, 1)]
        )[1]
        logger.info("receiver connected; subscribing as share group %s", group)

    def _on_subscribe(
        self, _c: mqtt.Client, _u: Any, mid: int, codes: list[ReasonCode], _p: Any
    ) -> None:
        if mid == self._sub_mid:
            if any(code.is_failure for code in codes):
                logger.error("broker refused the receiver's subscriptions: %s", codes)
            else:
                self._ready.set()

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        self._inbox.append((message.topic, bytes(message.payload)))
        # The store thread clears the event before it looks at the inbox, so a set one that is
        # seen here means this message will be found.
        if not self._arrived.is_set():
            self._arrived.set()

    # -- store thread -------------------------------------------------------------------------

    def _store_loop(self) -> None:
        batch_max = self.config.receiver.batch_max
        while True:
            if self._on_progress is not None:
                self._on_progress()
            self._arrived.clear()
            if not self._inbox:
                self._arrived.wait(PROGRESS_S)
                continue
            batch: list[_Message] = []
            size = 0
            stopping = False
            while self._inbox and len(batch) < batch_max and size < TAKEN_BYTES_MAX:
                item = self._inbox.popleft()
                if item is None:
                    stopping = True
                    break
                batch.append(item)
                size += len(item[1])
            if batch:
                try:
                    self._handle(batch)
                except Exception:  # loop boundary: unacked events come back when devices re-send
                    logger.exception("storing a batch of %d messages failed", len(batch))
            if stopping:
                return

    def _handle(self, batch: list[_Message]) -> None:
        now = utc_iso(datetime.now(UTC))
        envelopes: list[Envelope] = []
        to_ack: dict[str, list[str]] = defaultdict(list)
        for topic, raw in batch:
            # One message never fails the batch: whatever it does wrong makes it a reject.
            try:
                if topic.endswith("/evt"):
                    envelopes.extend(self._parse_events(topic, raw, now, to_ack))
                else:
                    self._handle_device_message(topic, raw)
            except Exception as exc:
                self._reject(topic, raw, f"unreadable: {type(exc).__name__}", now, None)
        # batch_max bounds a commit in events; a batch holds messages, which may carry several.
        commit_max = self.config.receiver.batch_max
        for start in range(0, len(envelopes), commit_max):
            chunk = envelopes[start : start + commit_max]
            new = self.store.store_events(chunk, now)
            self.stored += new
            self.duplicates += len(chunk) - new
            for envelope in chunk:
                to_ack[envelope.device_id].append(envelope.event_id)
        # The commits above are synced; only now may devices forget these events.
        for device_id, ids in to_ack.items():
            for start in range(0, len(ids), ACK_CHUNK):
                body = {"schema_version": 1, "acked": ids[start : start + ACK_CHUNK]}
                self._client.publish(
                    topics.ack(device_id), json.dumps(body), qos=1, properties=self._ack_properties
                )

    def _parse_events(
        self, topic: str, raw: bytes, now: str, to_ack: dict[str, list[str]]
    ) -> list[Envelope]:
        """The valid envelopes of one event message (one envelope, or a batch of them); each
        invalid one becomes a reject, acked when it names its event id."""
        try:
            device_id = topics.device_of(topic)
        except TopicError as exc:
            self._reject(topic, raw, str(exc), now, None)
            return []
        try:
            items = batches.items(parse_json(raw))
        except MessageError as exc:
            if raw.lstrip()[:1] == b"[":
                # A batch we cannot read names no event reliably: ack none of it, the device
                # re-sends each of its events alone.
                self._reject(topic, raw, str(exc), now, None)
            else:
                self._keep_invalid(topic, raw, str(exc), now, device_id, to_ack)
            return []
        envelopes = []
        for item in items:
            try:
                envelope = Envelope.from_data(item)
            except MessageError as exc:
                one = raw if len(items) == 1 else json.dumps(item, ensure_ascii=False).encode()
                self._keep_invalid(topic, one, str(exc), now, device_id, to_ack)
                continue
            if envelope.device_id != device_id:
                # Not acked: the event id belongs to the device named inside, not to this sender.
                reason = f"device_id {envelope.device_id!r} sent on {topic}"
                self._reject(topic, envelope.to_json(), reason, now, None)
                continue
            envelopes.append(envelope)
        return envelopes

    def _keep_invalid(
        self,
        topic: str,
        raw: bytes,
        reason: str,
        now: str,
        device_id: str,
        to_ack: dict[str, list[str]],
    ) -> None:
        """Keep an invalid event for an operator, and ack it if we can name it, so the device
        does not re-send something that will never be valid. Acked only once kept: an ack
        always means "stored" (here, among the rejects)."""
        match = _EVENT_ID.search(raw[:2000].decode("utf-8", "replace"))
        event_id = match.group(1) if match else None
        if self._reject(topic, raw, reason, now, event_id) and event_id:
            to_ack[device_id].append(event_id)

    def _reject(self, topic: str, raw: bytes, reason: str, now: str, event_id: str | None) -> bool:
        """Keep a bounded record of a refused message; False when its sender is over its rate."""
        self.rejected += 1
        sender = _sender_of(topic)
        self._rejects.log(sender, "a message", reason)
        if not self._rejects.admit(sender):
            return False
        reject = Reject.of(topic, raw, reason)
        self.store.store_rejected(reject.topic, reject.raw_prefix, reject.reason, now, event_id)
        return True

    def _handle_device_message(self, topic: str, raw: bytes) -> None:
        """A retained status or state: parsed against its schema, else ignored (logged once a
        minute per device: retained messages come back on every reconnect)."""
        device_id = topics.device_of(topic)
        kind = "status" if topic.endswith("/status") else "state"
        if kind == "status" and not raw:
            return  # a retained status cleared
        try:
            body = parse_json(raw)
            validate(f"{kind}.v1.json", body)
        except MessageError as exc:
            self._rejects.log(device_id, f"its {kind}", str(exc))
            return
        if kind == "status":
            self.store.set_status(device_id, body)
        else:
            self.store.set_state(device_id, body)


def _sender_of(topic: str) -> str:
    """The device a topic names, or the topic itself (bounded) when it names none."""
    try:
        return topics.device_of(topic)
    except TopicError:
        return topic[:80]
