"""The SQLite outbox: durable, ordered, sequence numbers that survive restarts, storage policy."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from uplink import ManualClock, MessageError, Outbox, OutboxFull


def probe(outbox: Outbox, n: int = 0) -> str:
    return outbox.record("device.probe", {"purpose": "test", "n": n}).event_id


def test_record_commits_an_envelope_readable_by_another_connection(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db", "dropbox-1", clock=ManualClock())
    envelope = outbox.record("device.probe", {"purpose": "test", "n": 7})

    # A second connection sees the committed row: nothing waits in a cache.
    other = sqlite3.connect(tmp_path / "o.db")
    body = other.execute(
        "SELECT body FROM outbox WHERE event_id = ?", (envelope.event_id,)
    ).fetchone()
    data = json.loads(body[0])
    assert data["payload"] == {"purpose": "test", "n": 7}
    assert data["device_id"] == "dropbox-1"
    assert data["occurred_at"] == "2026-01-05T01:00:00.000Z"
    assert data["clock_synced"] is True
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sequence_numbers_keep_growing_across_reopen_even_after_acks(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db", "kiosk-1")
    first = [outbox.record("device.probe", {"purpose": "test"}) for _ in range(3)]
    outbox.ack(e.event_id for e in first)
    outbox.close()

    reopened = Outbox(tmp_path / "o.db", "kiosk-1")
    assert reopened.record("device.probe", {"purpose": "test"}).seq == 4


def test_rows_come_back_in_order_and_leave_only_when_acked(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db", "kiosk-1")
    ids = [probe(outbox, n) for n in range(5)]

    assert [r.event_id for r in outbox.after(0, 10)] == ids
    assert [r.event_id for r in outbox.after(2, 2)] == ids[2:4]
    assert outbox.ack([ids[1], ids[3], "0" * 26]) == 2
    assert [r.event_id for r in outbox.get(ids)] == [ids[0], ids[2], ids[4]]
    assert outbox.pending() == 3


def test_is_empty_only_once_every_event_is_acked(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db", "kiosk-1")
    assert outbox.is_empty()
    ids = [probe(outbox, n) for n in range(3)]
    outbox.ack(ids[:2])
    assert not outbox.is_empty()
    outbox.ack(ids[2:])
    assert outbox.is_empty()


def test_a_payload_off_its_schema_is_refused_before_anything_is_stored(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db", "kiosk-1")
    with pytest.raises(MessageError, match=r"device\.probe payload"):
        outbox.record("device.probe", {"purpose": "nonsense"})
    with pytest.raises(MessageError, match="unknown event type"):
        outbox.record("no.such_type", {})
    assert outbox.pending() == 0


def test_telemetry_is_coalesced_to_the_newest_pending_one(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db", "kiosk-1")
    probe(outbox)
    for n in range(5):
        outbox.record("device.heartbeat", {"uptime_s": n, "pending": 0})

    bodies = [json.loads(r.body) for r in outbox.after(0, 10)]
    assert [b["type"] for b in bodies] == ["device.probe", "device.heartbeat"]
    assert bodies[1]["payload"]["uptime_s"] == 4


def test_when_full_critical_events_push_out_telemetry_and_then_fail_loudly(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db", "kiosk-1", max_mb=0.0625)  # 16 pages of 4 KiB
    note = "x" * 180
    stored = []
    with pytest.raises(OutboxFull, match="no room"):
        for n in range(1000):
            if n == 5:
                outbox.record("device.heartbeat", {"uptime_s": 1, "pending": 0})
            stored.append(outbox.record("device.probe", {"purpose": "test", "n": n, "note": note}))
    assert outbox.storage_full
    # Every event record() returned for is still there; telemetry gave way first.
    pending = {r.event_id for r in outbox.after(0, 10_000)}
    assert pending == {e.event_id for e in stored}

    # Telemetry is not even attempted near the cap: it is counted as dropped.
    outbox.record("device.heartbeat", {"uptime_s": 2, "pending": 0})
    assert outbox.telemetry_dropped >= 1

    outbox.ack([e.event_id for e in stored[: len(stored) // 2]])
    assert not outbox.storage_full
    outbox.record("device.probe", {"purpose": "test", "note": note})


def test_device_id_must_be_safe_in_topics(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not allowed"):
        Outbox(tmp_path / "o.db", "kiosk/+")
