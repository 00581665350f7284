"""The held-events seam on its own: events the outbox refuses are held in order, telemetry is not,
counters the box store refuses are kept, and one retry stores and saves them once there is room."""

from __future__ import annotations

import json
import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dropbox_agent.adapters.box_store import SqliteBoxStore
from dropbox_agent.adapters.held_journal import SLOT_BYTES, HeldJournal
from dropbox_agent.domain import events as vocabulary
from dropbox_agent.domain.model import BoxCounters, Record
from dropbox_agent.held import HOLD_RETRY_S, STORAGE_ALERT, STORAGE_FAULT, HeldEvents
from uplink import Envelope, ManualClock, OutboxFull
from uplink.ids import EVENT_ID_PATTERN
from uplink.sink import EventLog

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def deposit(number: int) -> Record:
    event = vocabulary.deposit(
        "dropbox-t",
        deposit_no=number,
        code="K7QX-2M9A",
        blocked_ms=200,
        pending_collection=number,
        after_jam=False,
        during_collection=False,
        booking_ref=None,
    )
    return Record(event.type, event.payload, float(number))


def heartbeat() -> Record:
    event = vocabulary.heartbeat(
        "dropbox-t", pending=0, total=0, door_open=False, faults=[], fill_percent=None
    )
    return Record(event.type, event.payload, 0.0)


class FailingStore(SqliteBoxStore):
    """The box store whose counters cannot be saved while `failing`."""

    failing = True

    def save_counters(self, counters: BoxCounters) -> None:
        if self.failing:
            raise OSError(28, "No space left on device")
        super().save_counters(counters)


def test_held_events_are_stored_in_order_and_counters_saved_on_one_retry(tmp_path: Path) -> None:
    clock = ManualClock()
    sink = EventLog(device_id="dropbox-t")
    store = FailingStore(tmp_path / "box.db", boot_id="held")
    committed: list[tuple[Record, Envelope]] = []
    faults: list[tuple[str, str, bool]] = []
    held = HeldEvents(
        events=sink,
        store=store,
        clock=clock,
        committed=lambda record, envelope: committed.append((record, envelope)),
        fault=lambda *fault: faults.append(fault),
    )

    # GIVEN an outbox that is full and a box store that cannot save counters
    sink.fail_with(OutboxFull("no room"))
    # WHEN two deposits, a heartbeat between them, and their counters come
    assert held.record(deposit(1), T0) is False
    assert held.record(heartbeat(), T0) is True  # telemetry is not held: the next says the same
    assert held.record(deposit(2), T0 + timedelta(seconds=1)) is False
    held.save_counters(BoxCounters(last_deposit_no=2, pending_count=2, pending_first_no=1))

    # THEN the deposits are held (memory and journal), said once, and a retry is due
    assert held.count == 2 and held.full
    assert held.alerts()[0] == STORAGE_ALERT and "2 deposits held" in held.alerts()[1]
    assert faults == [(*STORAGE_FAULT, True)]
    assert [event[1]["deposit_no"] for event in store.load_held()] == [1, 2]
    assert held.retry_at == clock.monotonic() + HOLD_RETRY_S
    assert store.load_counters() is None and committed == []

    # WHEN room returns and the retry comes
    sink.fail_with(None)
    store.failing = False
    clock.advance(HOLD_RETRY_S)
    held.retry()

    # THEN they are stored oldest first with their own times, each committed, the journal empty,
    # the counters saved and the fault cleared
    assert [(p["deposit_no"], at) for _, p, at in sink.records] == [
        (1, T0),
        (2, T0 + timedelta(seconds=1)),
    ]
    assert [record.payload["deposit_no"] for record, _ in committed] == [1, 2]
    assert held.count == 0 and not held.full and held.alerts() == []
    assert store.load_held() == []
    assert store.load_counters() == BoxCounters(
        last_deposit_no=2, pending_count=2, pending_first_no=1
    )
    assert faults == [(*STORAGE_FAULT, True), (*STORAGE_FAULT, False)]
    assert held.retry_at is None
    store.close()


def test_a_held_event_is_stored_under_the_id_it_was_held_with_even_twice(tmp_path: Path) -> None:
    """GIVEN a deposit held (its id in the journal) WHEN it is stored, and stored again from the
    journal as a restart after a kill before its slot was cleared would THEN it is one event."""
    sink = EventLog(device_id="dropbox-t")
    store = SqliteBoxStore(tmp_path / "box.db", boot_id="held")
    stored: list[Envelope] = []

    def held_events() -> HeldEvents:
        return HeldEvents(events=sink, store=store, clock=ManualClock(),
                          committed=lambda _, envelope: stored.append(envelope),
                          fault=lambda *_: None)  # fmt: skip

    held = held_events()
    sink.fail_with(OutboxFull("no room"))
    assert held.record(deposit(1), T0) is False
    [in_slot] = store.load_held()
    sink.fail_with(None)
    held.retry()
    assert held.count == 0 and store.load_held() == []
    again = held_events()  # the restart, with the slot as it was before it was cleared
    again.restore([in_slot])
    again.retry()
    assert [e.event_id for e in stored] == [in_slot.event_id, in_slot.event_id]
    assert sink.types() == [vocabulary.DEPOSIT]  # one event kept


def test_a_slot_written_before_event_ids_were_kept_is_given_one_and_keeps_it(
    tmp_path: Path,
) -> None:
    """A journal of the version before (slots `LAH1`, no event id): each event is given an id
    when read, written back in place at once, so every later start reads that same id."""
    body = json.dumps(
        {"type": vocabulary.DEPOSIT, "payload": {"deposit_no": 7}, "wall": T0.isoformat()},
        separators=(",", ":"),
    ).encode()
    path = tmp_path / "box.db.held"
    HeldJournal(path).close()  # allocated
    header = struct.pack(">4sQII", b"LAH1", 1, len(body), zlib.crc32(body))
    with path.open("r+b") as raw:
        raw.seek(SLOT_BYTES)  # sequence 1's slot
        raw.write((header + body).ljust(SLOT_BYTES, b"\0"))
    journal = HeldJournal(path)
    [event] = journal.load()
    journal.close()
    assert event.payload == {"deposit_no": 7} and event.wall == T0
    assert EVENT_ID_PATTERN.fullmatch(event.event_id)
    again = HeldJournal(path)
    assert again.load() == [event]  # the same id at the next start
    again.close()
