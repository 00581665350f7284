"""The box's SQLite memory: the ledger survives reopening, the raw log rolls and replays."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dropbox_agent.adapters import store as store_module
from dropbox_agent.adapters.store import SqliteLocalStore, decode_input, encode_input
from dropbox_agent.domain.model import (
    Authorization,
    BookingScanned,
    CountEntered,
    Edge,
    FaultReport,
    FillReading,
    Input,
    Ledger,
    OpenCollection,
)

WALL = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)


def test_the_ledger_survives_reopening(tmp_path: Path) -> None:
    ledger = Ledger(12, 3, 10, 2, OpenCollection("b-c2", "ofc-1", "badge", 9, counted=9))
    first = SqliteLocalStore(tmp_path / "box.db", boot_id="a")
    assert first.load_ledger() is None
    first.save_ledger(ledger)
    first.close()
    second = SqliteLocalStore(tmp_path / "box.db", boot_id="b")
    assert second.load_ledger() == ledger
    second.close()


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
    store = SqliteLocalStore(tmp_path / "box.db", boot_id="boot-1", max_rows=1000)
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
