"""The one event sink protocol and its shipped in-memory twin."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from uplink import ManualClock, MessageError, Outbox, OutboxFull
from uplink.sink import EventLog, EventSink

FAULT = {"component": "printer", "code": "paper_out", "active": True}


def test_the_log_keeps_schema_checked_events_with_their_times() -> None:
    log = EventLog(device_id="kiosk-t")
    at = datetime(2026, 6, 15, 1, 0, tzinfo=UTC)

    envelope = log.record("device.fault", FAULT, occurred_at=at)
    log.publish_state({"summary": "ok"})

    assert (envelope.device_id, envelope.seq, envelope.type) == ("kiosk-t", 1, "device.fault")
    assert envelope.occurred_at == "2026-06-15T01:00:00.000Z"
    assert log.records == [("device.fault", FAULT, at)]
    assert log.events == [("device.fault", FAULT)]
    assert log.of("device.fault") == [FAULT] and log.types() == ["device.fault"]
    assert log.states == [{"summary": "ok"}]
    with pytest.raises(MessageError):
        log.record("device.fault", {"component": "printer"})
    assert len(log.records) == 1


def test_the_log_can_be_told_to_fail_like_a_full_disk() -> None:
    log = EventLog()
    log.fail_with(OutboxFull("no room"))
    with pytest.raises(OutboxFull):
        log.record("device.fault", FAULT)
    log.fail_with(None)
    log.record("device.fault", FAULT)
    assert log.types() == ["device.fault"]


def test_with_an_outbox_the_log_commits_what_the_uplink_would(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db", "kiosk-t", clock=ManualClock())
    log = EventLog(outbox=outbox, jsonl=tmp_path / "events.jsonl")
    try:
        envelope = log.record("device.fault", FAULT)
        assert [row.seq for row in outbox.after(0, 10)] == [envelope.seq]
        assert envelope.event_id in (tmp_path / "events.jsonl").read_text()
    finally:
        outbox.close()


def test_the_uplink_and_the_log_are_event_sinks() -> None:
    from uplink import Uplink

    sinks: list[type[EventSink]] = [Uplink, EventLog]  # mypy checks both fit the protocol
    assert all(callable(getattr(sink, "record", None)) for sink in sinks)
