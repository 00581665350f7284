"""Events the outbox cannot take while storage fails, held in order and stored once there is room.

When the outbox refuses an event (`StorageError`: the data partition or the outbox's cap is full)
the box keeps counting. The event is held in memory and in the box store's journal of held events
(`adapters.held_journal`, which needs no new disk block), and every later event waits behind it so
the outbox keeps their order; telemetry is not held (the next reading says the same). A retry
every `HOLD_RETRY_S` clock seconds stores the held events oldest first, each cleared from the
journal as soon as it is in the outbox. Each held event is given its event id when it is held,
kept in the journal with it and stored under it: a stop between storing it and clearing it
stores it again at the next start as the same event, which the outbox keeps once (and the back
office stores once). Held events the journal cannot keep (it could not be allocated: a disk full
before it ever existed) are in memory only, and the state says so. Counters the box store could
not save wait here too and are saved on the same retry: the outbox is the record, and counters
behind it are reconciled at the next start.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime

from dropbox_agent.domain import events as vocabulary
from dropbox_agent.domain.model import BoxCounters, Record
from dropbox_agent.ports import BoxStore, FaultSink, HeldEvent
from uplink import Clock, Envelope, EventSink, StorageError, catalog
from uplink.ids import new_event_id

logger = logging.getLogger(__name__)

HOLD_RETRY_S = 5.0  # clock seconds between attempts to store events held while storage is full
STORAGE_FAULT = ("storage", "full")
STORAGE_ALERT = "PENYIMPANAN PENUH / storage full"
MEMORY_ONLY_ALERT = (
    "setoran tertahan hanya di memori: hilang bila kotak mati / "
    "held deposits in memory only: lost if the box stops"
)

Committed = Callable[[Record, Envelope], None]
"""Called with each event and its envelope once the event is in the outbox."""


class HeldEvents:
    """The events counted but not stored yet, and the counters not saved yet, with their retry.

    Used by the agent's loop thread only.

    Args:
        events: where events are stored (the uplink's outbox).
        store: the box store, which keeps the held events across a restart and saves the
            counters.
        clock: times the retries.
        committed: told of each event once it is in the outbox, held first or not.
        fault: told when storage fills up (`STORAGE_FAULT` active) and has room again.
    """

    def __init__(
        self,
        *,
        events: EventSink,
        store: BoxStore,
        clock: Clock,
        committed: Committed,
        fault: FaultSink,
    ) -> None:
        self.events, self._store, self._clock = events, store, clock
        self._committed, self._fault = committed, fault
        # Events the outbox could not take (disk or cap full), oldest first, with their wall
        # time and the event id fixed when held: stored in order, before anything newer, once
        # there is room again.
        self._held: list[tuple[Record, datetime, str]] = []
        self._in_memory_only = False  # the journal could not take them: said in the state
        self._full = False
        self._unsaved_counters: BoxCounters | None = None
        self.retry_at: float | None = None
        """Clock time of the next attempt to store what is held (None: nothing to retry)."""

    @property
    def count(self) -> int:
        """Events counted but not yet stored (storage full); stored once there is room."""
        return len(self._held)

    @property
    def full(self) -> bool:
        """Whether storage is reported full (from the first held event until all are stored)."""
        return self._full

    def alerts(self) -> list[str]:
        """The lines the box's state shows while storage is full (none otherwise)."""
        if not self._full:
            return []
        held = sum(1 for record, _, _ in self._held if record.type == vocabulary.DEPOSIT)
        return [
            STORAGE_ALERT,
            f"{held} setoran menunggu disimpan / {held} deposits held until storage returns",
            *([MEMORY_ONLY_ALERT] if self._in_memory_only else []),
        ]

    def load(self) -> list[HeldEvent]:
        """The events held before the last stop, as the box store kept them (none when it
        cannot read them: logged)."""
        try:
            return self._store.load_held()
        except (sqlite3.Error, OSError) as exc:
            logger.error("cannot read the events held before the last stop: %s", exc)
            return []

    def restore(self, held: Sequence[HeldEvent]) -> None:
        """Hold again the events held before the last stop (see `load`); they are stored at the
        first pass. The caller reports `STORAGE_FAULT` once its machine runs."""
        for event in held:
            record = Record(event.type, event.payload, self._clock.monotonic())
            self._held.append((record, event.wall, event.event_id))
        if self._held:
            self._full = True
            self.retry_at = self._clock.monotonic()  # try at the first pass
            logger.warning(
                "%d events counted before the last stop are not stored yet", len(self._held)
            )

    def record(self, record: Record, wall: datetime) -> bool:
        """Commit one event behind those held; False when it is held instead (storage full)."""
        telemetry = catalog().get(record.type).delivery == "telemetry"
        if self._held and not self._store_held():
            if not telemetry:  # telemetry waits for nobody: the next one says the same
                self._hold(record, wall, None)
                return False
            return True
        try:
            envelope = self.events.record(record.type, record.payload, occurred_at=wall)
        except StorageError as exc:
            if telemetry:
                logger.warning("%s not stored: %s", record.type, exc)
                return True
            self._hold(record, wall, exc)
            return False
        self._committed(record, envelope)
        return True

    def save_counters(self, counters: BoxCounters) -> None:
        """Save the counters; when the box store cannot, keep the newest and retry."""
        try:
            self._store.save_counters(counters)
        except (sqlite3.Error, OSError) as exc:
            # The outbox is the record: counters behind it are reconciled at start. Keep the
            # newest and try again.
            if self._unsaved_counters is None:
                logger.error("cannot save the counters (%s); retrying", exc)
            self._unsaved_counters = counters
            if self.retry_at is None:
                self.retry_at = self._clock.monotonic() + HOLD_RETRY_S
            return
        if self._unsaved_counters is not None:
            logger.warning("counters saved again")
        self._unsaved_counters = None

    def retry(self) -> None:
        """Save the counters kept and store the held events, as far as storage lets."""
        self.retry_at = None
        if self._unsaved_counters is not None:
            self.save_counters(self._unsaved_counters)
        if self._held:
            self._store_held()

    def _hold(self, record: Record, wall: datetime, exc: StorageError | None) -> None:
        # The id is fixed now and kept with the held event: stored twice, it is one event.
        self._held.append((record, wall, new_event_id(int(wall.timestamp() * 1000))))
        self._save()
        if self.retry_at is None:
            self.retry_at = self._clock.monotonic() + HOLD_RETRY_S
        if not self._full:
            self._full = True
            logger.error(
                "cannot store %s (%s): the box keeps counting and stores the held events once "
                "there is room; free space on the data partition or restore the uplink so the "
                "back office can acknowledge the backlog",
                record.type,
                exc or "storage full",
            )
            self._fault(*STORAGE_FAULT, True)  # recorded (held) in order, stored with the rest

    def _store_held(self) -> bool:
        """Store the held events in order; True when none is left."""
        stored = 0
        while self._held:
            record, wall, event_id = self._held[0]
            try:
                # A stop between this and clearing the slot stores it again at the next start:
                # under the same id, so the outbox keeps one (and the back office stores one).
                envelope = self.events.record(
                    record.type, record.payload, occurred_at=wall, event_id=event_id
                )
            except StorageError:
                self.retry_at = self._clock.monotonic() + HOLD_RETRY_S
                return False
            self._held.pop(0)
            stored += 1
            self._save()  # cleared at once: a stop now does not store it a second time
            self._committed(record, envelope)
        self.retry_at = None
        if self._full:
            self._full = False
            logger.warning("storage has room again: %d held events stored", stored)
            self._fault(*STORAGE_FAULT, False)
        return True

    def _save(self) -> None:
        """Keep the held events in the box's own file too, so a restart does not lose them
        (best effort: when the same disk is full, the counters still have the count)."""
        held = [HeldEvent(r.type, dict(r.payload), wall, eid) for r, wall, eid in self._held]
        try:
            self._store.save_held(held)
        except (sqlite3.Error, OSError) as exc:
            if not self._in_memory_only:  # once per spell, and in the state meanwhile
                logger.error(
                    "held events kept in memory only, lost if the box stops before storage "
                    "returns (%s); free space on the data partition",
                    exc,
                )
            self._in_memory_only = bool(self._held)
        else:
            self._in_memory_only = False
