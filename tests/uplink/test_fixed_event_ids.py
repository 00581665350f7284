"""An event recorded with an id fixed beforehand (a dropbox's held deposit) is one event however
often it is recorded: the outbox keeps one row while it is pending, `EventLog` one record."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from uplink import EventLog, ManualClock, MessageError, Outbox
from uplink.ids import new_event_id

AT = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
PROBE = {"purpose": "test", "n": 1}


def test_the_outbox_stores_an_event_id_once_while_it_is_pending(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db", "dropbox-1", clock=ManualClock(AT))
    event_id = new_event_id(int(AT.timestamp() * 1000))
    first = outbox.record("device.probe", PROBE, occurred_at=AT, event_id=event_id)
    again = outbox.record("device.probe", PROBE, occurred_at=AT, event_id=event_id)
    later = outbox.record("device.probe", PROBE)

    assert first == again and first.event_id == event_id  # the stored envelope, seq and all
    assert [r.event_id for r in outbox.after(0, 10)] == [event_id, later.event_id]
    assert later.seq == first.seq + 1  # the second call took no sequence number


def test_an_acked_event_recorded_again_keeps_its_id(tmp_path: Path) -> None:
    """Acked rows are gone from the outbox: the event goes out again under its id, and the back
    office (keyed on device and event id) stores it once."""
    outbox = Outbox(tmp_path / "o.db", "dropbox-1", clock=ManualClock(AT))
    event_id = new_event_id()
    outbox.record("device.probe", PROBE, event_id=event_id)
    outbox.ack([event_id])
    assert outbox.record("device.probe", PROBE, event_id=event_id).event_id == event_id
    assert [r.event_id for r in outbox.after(0, 10)] == [event_id]


@pytest.mark.parametrize("bad", ["", "e00001", "0" * 25, "I" * 26, "0" * 25 + "\n"])
def test_an_event_id_that_is_not_one_is_refused_before_anything_is_stored(
    tmp_path: Path, bad: str
) -> None:
    outbox = Outbox(tmp_path / "o.db", "dropbox-1", clock=ManualClock(AT))
    with pytest.raises(MessageError, match="is not one"):
        outbox.record("device.probe", PROBE, event_id=bad)
    assert outbox.pending() == 0


def test_the_event_log_keeps_an_event_id_once() -> None:
    log = EventLog()
    event_id = new_event_id()
    first = log.record("device.probe", PROBE, event_id=event_id)
    assert log.record("device.probe", PROBE, event_id=event_id) == first
    assert first.event_id == event_id and log.types() == ["device.probe"]
