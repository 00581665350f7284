"""The box store: the counters survive reopening, the raw log rolls and replays."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dropbox_agent.adapters import box_store as store_module
from dropbox_agent.adapters.box_store import SqliteBoxStore, decode_input, encode_input
from dropbox_agent.domain.model import (
    Authorization,
    BookingScanned,
    BoxCounters,
    CountEntered,
    Edge,
    FaultReport,
    FillReading,
    Input,
    OpenCollection,
)

WALL = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)


def test_the_counters_survive_reopening(tmp_path: Path) -> None:
    counters = BoxCounters(12, 3, 10, 2, OpenCollection("b-c2", "ofc-1", "badge", 9, counted=9))
    first = SqliteBoxStore(tmp_path / "box.db", boot_id="a")
    assert first.load_counters() is None
    first.save_counters(counters)
    first.close()
    second = SqliteBoxStore(tmp_path / "box.db", boot_id="b")
    assert second.load_counters() == counters
    second.close()


def test_counters_a_box_of_an_earlier_version_saved_are_read(tmp_path: Path) -> None:
    """GIVEN a box.db whose counters an earlier version wrote (its `ledger` table, JSON body)
    WHEN the box store opens it THEN the box counts on from them (a box updated in the field)."""
    body = (
        '{"last_deposit_no":41,"pending_count":5,"pending_first_no":37,"collection_no":6,'
        '"open_collection":null}'
    )
    with sqlite3.connect(tmp_path / "box.db") as db:
        db.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        db.execute("INSERT INTO ledger (id, body) VALUES (1, ?)", (body,))
    db.close()
    store = SqliteBoxStore(tmp_path / "box.db", boot_id="updated")
    assert store.load_counters() == BoxCounters(41, 5, 37, 6, None)
    store.close()


@pytest.mark.parametrize(
    "item",
    [
        Edge(1.5, Input.DOOR, True),
        Authorization(2.0, "pin", None),
        CountEntered(3.0, 7, "keypad"),
        FillReading(4.0, None),
        BookingScanned(5.0, "BK-1234"),
        FaultReport(6.0, "printer", "paper_out", True),
    ],
)
def test_every_input_kind_round_trips(item: object) -> None:
    kind, body = encode_input(item)  # type: ignore[arg-type]
    assert decode_input(kind, body) == item


def test_a_malformed_row_is_named() -> None:
    with pytest.raises(ValueError, match="kind 'edge' is malformed"):
        decode_input("edge", '{"t": 1}')


def test_the_raw_log_keeps_the_newest_rows_with_boot_and_wall_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "TRIM_EVERY", 10)
    store = SqliteBoxStore(tmp_path / "box.db", boot_id="boot-1", max_rows=1000)
    store._max_rows = 25  # smaller than the config allows, to see the trim
    for n in range(100):
        store.append_inputs([(Edge(float(n), Input.BEAM, n % 2 == 0), WALL)])
    store.append_inputs([])
    rows = store.recent_inputs(1000)
    store.close()
    assert 25 <= len(rows) <= 35
    assert rows[-1] == ("boot-1", Edge(99.0, Input.BEAM, False), "2026-01-05T01:00:00.000Z")
    times = [item.t for _, item, _ in rows]
    assert times == sorted(times)
