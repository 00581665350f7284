"""A hostile device against the back office's ingest: every message that cannot become a valid
event is a bounded reject, never a failed batch; an ack always means "stored"."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backoffice.receiver import Receiver
from backoffice.rejects import BURST, RAW_PREFIX_BYTES, RejectGate
from backoffice.store import SqliteEventStore
from tests.conftest import RawDevice, queries
from uplink import Outbox, topics
from uplink.errors import MessageError
from uplink.messages import Envelope, check_event_key

DeviceFactory = Callable[[str], RawDevice]


def probe(tmp_path: Path, device_id: str, n: int = 0) -> dict[str, Any]:
    """A valid envelope as a dict, as the device's outbox recorded it."""
    outbox = Outbox(tmp_path / f"{device_id}-{n}.db", device_id)
    return dict(json.loads(outbox.record("device.probe", {"purpose": "test", "n": n}).to_json()))


def poison(tmp_path: Path, device_id: str) -> dict[str, bytes]:
    """Messages that must each become a reject (named for the assertion messages)."""

    def envelope(**changes: Any) -> bytes:
        body = probe(tmp_path, device_id, n=len(changes))
        body.update(changes)
        return json.dumps(body).encode()

    good = probe(tmp_path, device_id, 99)
    return {
        "deep nesting": b"[" * 100_000 + b"]" * 100_000,  # under the broker's 256 KiB
        "deep payload": envelope().replace(
            b'{"purpose"', b'{"x":' + b"[" * 50_000 + b"]" * 50_000 + b',"purpose"'
        ),
        "seq 2^63": envelope(seq=2**63),
        "seq 1e300": envelope().replace(b'"seq":', b'"seq":1e300,"_":'),
        "seq NaN": json.dumps(good).replace('"seq": ' + str(good["seq"]), '"seq": NaN').encode(),
        "huge integer": envelope().replace(b'"n":', b'"n":' + b"9" * 5000 + b',"m":'),
        "not UTF-8": b'{"event_id": "\xff\xfe"}',
        "lone surrogate": envelope(payload={"purpose": "test\\ud800", "n": 1}).replace(
            b"\\\\ud800", b"\\ud800"
        ),
        "not a ULID": envelope(event_id="ZZZZZZZZZZZZZZZZZZZZZZZZZZ"),
        "year 0": envelope(occurred_at="0000-01-01T00:00:00.000Z"),
        "month 13": envelope(occurred_at="2026-13-01T00:00:00.000Z"),
        "1-digit year": envelope(occurred_at="1-01-01T00:00:00.000Z"),
        "no offset": envelope(occurred_at="2026-11-30T15:50:00.000"),
        "empty": b"",
        "a list": b"[]",
        "a string": b'"x"',
    }


def test_poison_never_fails_a_batch_and_good_events_around_it_are_acked(
    backoffice: Receiver,
    raw_device: DeviceFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hostile, victim = raw_device("kiosk-41"), raw_device("kiosk-42")
    bad = poison(tmp_path, "kiosk-41")
    goods = [probe(tmp_path, "kiosk-42", n) for n in range(5)]
    with caplog.at_level(logging.WARNING):
        for n, body in enumerate(bad.values()):
            hostile.publish(body)
            if n < len(goods):
                victim.publish(json.dumps(goods[n]).encode())
        last = probe(tmp_path, "kiosk-41", 100)
        hostile.publish(json.dumps(last).encode())
        assert victim.wait_acks(len(goods))
        for _ in range(len(bad) + 1):  # rejects with a readable id are acked too, before it
            if last["event_id"] in hostile.acked:
                break
            hostile.wait_acks(len(hostile.acked) + 1, timeout=5)
    assert sorted(victim.acked) == sorted(g["event_id"] for g in goods)
    assert last["event_id"] in hostile.acked
    stored = set(queries(backoffice).event_ids())
    assert stored == {g["event_id"] for g in goods} | {last["event_id"]}
    assert backoffice.rejected == len(bad)
    assert not [r for r in caplog.records if "failed" in r.getMessage()]
    assert not [r for r in caplog.records if r.exc_info]  # no traceback for a device's message
    # Every acked id of the hostile device is stored, as an event or as a kept reject.
    assert len(caplog.records) <= 2  # one line a minute per device, not one per message


def test_a_reject_keeps_a_bounded_prefix_and_the_hash(
    backoffice: Receiver, raw_device: DeviceFactory, tmp_path: Path
) -> None:
    device = raw_device("kiosk-43")
    body = json.dumps({"junk": "x" * 200_000}).encode()
    device.publish(body)
    device.publish(json.dumps(probe(tmp_path, "kiosk-43")).encode())
    assert device.wait_acks(1)
    store = queries(backoffice)
    assert store.rejected_count() == 1
    if isinstance(store, SqliteEventStore):
        with sqlite3.connect(store.path) as db:
            raw, reason = db.execute("SELECT raw, reason FROM rejected").fetchone()
        assert len(raw) == RAW_PREFIX_BYTES
        assert f"{len(body)} bytes" in reason and "sha256" in reason


def test_rejects_are_rate_limited_per_device(
    backoffice: Receiver, raw_device: DeviceFactory, tmp_path: Path
) -> None:
    flooder, other = raw_device("kiosk-44"), raw_device("kiosk-45")
    for n in range(BURST * 3):
        flooder.publish(b"not json %d" % n)
    other.publish(b"not json either")
    good = probe(tmp_path, "kiosk-45")
    other.publish(json.dumps(good).encode())
    assert other.wait_acks(1)
    assert backoffice.rejected == BURST * 3 + 1
    # The flooder's burst, then nothing; the other device's reject is still kept.
    assert queries(backoffice).rejected_count() <= BURST + 2


def test_the_gate_refills_on_its_clock_and_logs_once_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    gate = RejectGate(monotonic=lambda: now[0], burst=2, per_minute=60)
    assert [gate.admit("a") for _ in range(3)] == [True, True, False]
    assert gate.admit("b")
    now[0] += 1.0
    assert gate.admit("a") and not gate.admit("a")
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            gate.log("a", "a message", "bad")
        now[0] += 61
        gate.log("a", "a message", "bad")
    assert len(caplog.records) == 2
    assert "and 4 more" in caplog.records[1].getMessage()


def test_another_devices_event_id_is_stored_as_this_devices_event(
    backoffice: Receiver, raw_device: DeviceFactory, tmp_path: Path
) -> None:
    """The store deduplicated on the id alone: a reused id was acked without being stored."""
    first, second = raw_device("kiosk-46"), raw_device("kiosk-47")
    original = probe(tmp_path, "kiosk-46")
    first.publish(json.dumps(original).encode())
    assert first.wait_acks(1)
    reused = probe(tmp_path, "kiosk-47")
    reused["event_id"] = original["event_id"]
    second.publish(json.dumps(reused).encode())
    assert second.wait_acks(1)
    assert second.acked == [original["event_id"]]
    assert queries(backoffice).event_ids().count(original["event_id"]) == 2
    assert backoffice.duplicates == 0


def test_a_deeply_nested_retained_state_is_ignored_and_ingest_goes_on(
    backoffice: Receiver,
    raw_device: DeviceFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    device = raw_device("dropbox-48")
    deep = b'{"summary": "x", "alerts": [], "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with caplog.at_level(logging.WARNING):
        device.publish(deep, topic=topics.state("dropbox-48"))
        device.publish(b'{"schema_version": 1, "online": "yes"}', topic=topics.status("dropbox-48"))
        good = probe(tmp_path, "dropbox-48")
        device.publish(json.dumps(good).encode())
        assert device.wait_acks(1)
    assert device.acked == [good["event_id"]]
    rows = [d for d in queries(backoffice).devices() if d.device_id == "dropbox-48"]
    assert all(row.state is None and row.online is None for row in rows)
    assert len([r for r in caplog.records if "dropbox-48" in r.getMessage()]) == 1


@pytest.mark.parametrize(
    ("event_id", "seq"),
    [
        ("ZZZZZZZZZZZZZZZZZZZZZZZZZZ", 1),
        ("01ARZ3NDEKTSV4RRFFQ69G5FA", 1),
        ("01ARZ3NDEKTSV4RRFFQ69G5FAV", 0),
        ("01ARZ3NDEKTSV4RRFFQ69G5FAV", 2**63),
    ],
)
def test_the_store_refuses_keys_off_the_schema(tmp_path: Path, event_id: str, seq: int) -> None:
    store = SqliteEventStore(tmp_path / "events.db")
    envelope = Envelope(event_id, "kiosk-1", seq, "device.probe", 1,
                        "2026-11-30T00:00:00.000Z", True, {"purpose": "t", "n": 0})  # fmt: skip
    with pytest.raises(MessageError):
        store.store_events([envelope], "2026-11-30T00:00:00.000Z")
    assert store.count() == 0
    check_event_key("01ARZ3NDEKTSV4RRFFQ69G5FAV", 2**63 - 1)  # the edges themselves are fine
    store.close()


def test_a_store_keyed_on_event_id_alone_is_rekeyed(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE events (event_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, seq INTEGER"
            " NOT NULL, type TEXT NOT NULL, type_version INTEGER NOT NULL, occurred_at TEXT NOT"
            " NULL, clock_synced INTEGER NOT NULL, payload TEXT NOT NULL,"
            " received_at TEXT NOT NULL)"
        )
        db.execute(
            "INSERT INTO events VALUES ('01ARZ3NDEKTSV4RRFFQ69G5FAV', 'kiosk-1', 1, 'device.probe',"
            " 1, '2026-11-30T00:00:00.000Z', 1, '{}', '2026-11-30T00:00:00.000Z')"
        )
    store = SqliteEventStore(path)
    twin = Envelope("01ARZ3NDEKTSV4RRFFQ69G5FAV", "kiosk-2", 1, "device.probe", 1,
                    "2026-11-30T00:00:00.000Z", True, {"purpose": "t", "n": 0})  # fmt: skip
    assert store.store_events([twin], "2026-11-30T00:00:00.000Z") == 1
    assert store.count() == 2
    store.close()
