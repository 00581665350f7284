"""The sender's bookkeeping: which outbox rows are in flight, and which to send or re-send next.

Owned by the uplink's sender thread; it learns about the network only through the calls below,
so it can be read (and tested) without paho.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from paho.mqtt.reasoncodes import ReasonCode

from uplink import batches
from uplink.clock import Clock
from uplink.config import UplinkConfig
from uplink.outbox import Outbox, Row
from uplink.pacing import Pacing

logger = logging.getLogger(__name__)

# Until acks have been timed, re-send after this long (an event sent just before the back office
# subscribed is gone; waiting the full ack_timeout_s for it would stall a drain).
FIRST_ACK_TIMEOUT_S = 1.0
# paho keeps `inflight_window` publishes on the wire and queues the rest of what it is handed; on
# each PUBACK its network thread sends the next queued one itself. Handing it up to this many
# windows keeps the wire full between the sender's refills, which come once half of it is
# PUBACKed (a PUBACK-by-PUBACK hand-over between the two threads cost a thread switch per event);
# paho's queue stays small all the same (128 publishes at the default window of 32).
HANDED_WINDOWS = 4

Publish = Callable[[bytes], int | None]
"""Hand one message (an event, or a batch of them) to MQTT at QoS 1; its message id, or None
when it could not be queued."""


@dataclass
class UplinkStats:
    """Counters for status displays, tests and benchmarks."""

    published: int = 0
    """Events sent (a batch counts its events); `messages` counts the MQTT publishes."""
    messages: int = 0
    resent: int = 0
    acked: int = 0
    denied: int = 0
    connects: int = 0
    last_denied_reason: int | None = None


class Sender:
    """Walks the outbox in order, handing paho at most `HANDED_WINDOWS` in-flight windows of
    publishes (SQLite is the queue, not paho), re-sends what the back office has not acked in
    time, and starts over from the first pending row on every new session. A re-sent event
    keeps its event id. Consecutive events go out joined in one publish, up to `batch_max`
    (1 until the back office says it reads batches, see uplink.batches)."""

    def __init__(
        self,
        outbox: Outbox,
        publish: Publish,
        clock: Clock,
        config: UplinkConfig,
        stats: UplinkStats,
    ) -> None:
        self._outbox = outbox
        self._publish_body = publish
        self._clock = clock
        self._handed_max = HANDED_WINDOWS * config.inflight_window
        self._stats = stats
        self._cursor = 0  # highest seq sent this session
        self.batch_max = 1
        """Most events per publish: what the back office's acks offer this session."""
        # MQTT mid -> the event ids it carries, handed to paho
        self._awaiting_puback: dict[int, tuple[str, ...]] = {}
        self._sent_at: dict[str, float] = {}  # event id -> monotonic send time, oldest first
        self._resent: set[str] = set()  # in _sent_at, sent more than once
        self._pacing = Pacing(
            initial_window=config.inflight_window,
            max_window=config.max_unacked,
            min_timeout_s=FIRST_ACK_TIMEOUT_S,
            max_timeout_s=config.ack_timeout_s,
        )
        self._last_resend_log = -1e9

    def next_wakeup_s(self) -> float:
        """Longest the sender thread may sleep without missing a re-send deadline."""
        return min(1.0, self._pacing.timeout_s / 4)

    def new_session(self) -> None:
        """The connection changed: whatever was in flight is unknown, walk the outbox again."""
        self._cursor = 0
        self.batch_max = 1  # until this session's back office says otherwise
        self._awaiting_puback.clear()
        self._sent_at.clear()
        self._resent.clear()
        self._pacing.restart()

    def on_puback(self, mid: int, reason: ReasonCode) -> None:
        event_ids = self._awaiting_puback.pop(mid, ())
        if reason.is_failure:
            self._stats.denied += 1
            self._stats.last_denied_reason = reason.value
            logger.error(
                "broker refused %s: %s (reason %d); it stays in the outbox and is retried; "
                "check that device_id matches the certificate",
                _events_named(event_ids),
                reason,
                reason.value,
            )

    def on_acked(self, event_id: str) -> None:
        """The back office stored `event_id` (already removed from the outbox)."""
        sent = self._sent_at.pop(event_id, None)
        if sent is None:
            return
        resent = event_id in self._resent
        self._resent.discard(event_id)
        self._pacing.on_ack(None if resent else self._clock.monotonic() - sent)

    def send(self) -> None:
        """Re-send what expired, then send new rows while the windows allow."""
        self._resend_expired()
        while (room := self._room()) > 0:
            rows = self._outbox.after(self._cursor, room)
            if not rows:
                return
            for group in batches.groups(rows, self.batch_max):
                if not self._publish(group):
                    return
                self._cursor = group[-1].seq

    def waits_for_acks(self) -> bool:
        """Whether the back office's acks, not paho, are what holds back the next send (the
        unacked window is full, or fuller than what paho holds)."""
        return self._pacing.window - len(self._sent_at) <= self._handed_room()

    def _room(self) -> int:
        return min(self._handed_room(), self._pacing.window - len(self._sent_at))

    def _handed_room(self) -> int:
        """How many more events paho may be handed (its limit counts publishes)."""
        return (self._handed_max - len(self._awaiting_puback)) * self.batch_max

    def _resend_expired(self) -> None:
        deadline = self._clock.monotonic() - self._pacing.timeout_s
        # A re-send reuses its event's unacked slot, so only what paho holds limits it
        # (counting max_unacked here would stall forever once every slot has expired); each
        # goes in a publish of its own.
        room = self._handed_max - len(self._awaiting_puback)
        expired: list[str] = []
        for event_id, sent in self._sent_at.items():
            if sent > deadline or len(expired) >= room:
                break
            expired.append(event_id)
        if not expired:
            return
        waited_s = self._pacing.timeout_s
        self._pacing.on_expiry()
        for event_id in expired:
            del self._sent_at[event_id]
        # Re-sent events go alone: a batch the back office could not read is then read event
        # by event (see uplink.batches).
        for group in batches.groups(self._outbox.get(expired), 1):
            if not self._publish(group):
                return
            self._resent.update(row.event_id for row in group)
            self._stats.resent += len(group)
        now = self._clock.monotonic()
        if now - self._last_resend_log >= 10:
            self._last_resend_log = now
            logger.info(
                "re-sending events not acked within %.1f s (%d re-sent so far)",
                waited_s,
                self._stats.resent,
            )

    def _publish(self, rows: Sequence[Row]) -> bool:
        mid = self._publish_body(batches.join([row.body for row in rows]))
        if mid is None:
            return False
        event_ids = tuple(row.event_id for row in rows)
        self._awaiting_puback[mid] = event_ids
        now = self._clock.monotonic()
        for event_id in event_ids:
            self._sent_at[event_id] = now
        self._stats.published += len(rows)
        self._stats.messages += 1
        return True


def _events_named(event_ids: Sequence[str]) -> str:
    if not event_ids:
        return "an event"
    if len(event_ids) == 1:
        return f"event {event_ids[0]}"
    return f"{len(event_ids)} events ({', '.join(event_ids[:3])}...)"
