"""The day's script outside `python -m branchsim`: written for a kiosk in its own process and read
back whole, its happenings played each once and in order by whoever plays them, and a summary
checked for the cases it must show (tests/bench/branch_day.py plays it that way)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from branchsim.script import (
    OFFICE_ACTS,
    PRINTER_ACTS,
    SCRIPTED_CASES,
    SCRIPTED_REFUSALS,
    DayScript,
    Happening,
    ScriptPlayer,
    missing_cases,
    read_script,
    write_script,
)
from kiosk.sim.driver import Visit

START = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
SPAN = timedelta(hours=8, minutes=30)


def _script(tmp_path: Path) -> DayScript:
    return DayScript(
        visits=[
            Visit(START + timedelta(minutes=5), "booking_on_time", image=tmp_path / "b.png"),
            Visit(
                START + timedelta(minutes=9),
                "fever_referral",
                service="JKK",
                temperatures_c=(38.4, 38.3),
            ),
        ],
        happenings=[
            Happening(START + timedelta(minutes=10), "office_full"),
            Happening(START + timedelta(minutes=20), "paper_out"),
            Happening(START + timedelta(minutes=30), "office_eases"),
            Happening(START + timedelta(minutes=40), "paper_refilled"),
        ],
    )


def test_a_written_script_reads_back_whole(tmp_path: Path) -> None:
    script = _script(tmp_path)
    assert read_script(write_script(script, tmp_path / "day.json")) == script


def test_each_player_plays_its_own_acts_once_in_order() -> None:
    script = _script(Path("/x"))
    printer = ScriptPlayer(script.happenings, SPAN, PRINTER_ACTS)
    office = ScriptPlayer(script.happenings, SPAN, OFFICE_ACTS)
    assert printer.due(START + timedelta(minutes=15)) == []
    assert office.due(START + timedelta(minutes=15)) == ["office_full"]
    assert office.due(START + timedelta(minutes=16)) == []  # once
    assert printer.due(START + timedelta(hours=1)) == ["paper_out", "paper_refilled"]
    assert office.due(START + timedelta(hours=1)) == ["office_eases"]


def test_a_summary_missing_a_scripted_case_says_which() -> None:
    total = {
        "checkins_refused": dict.fromkeys(SCRIPTED_REFUSALS, 1),
        "day_cases": dict.fromkeys(SCRIPTED_CASES, 1),
        "collections": {"confirmed": 1, "mismatch": 1},
    }
    assert missing_cases(total) == []
    del total["day_cases"]["uv_cycle"]
    total["checkins_refused"]["wrong_day"] = 0
    del total["collections"]["mismatch"]
    assert missing_cases(total) == ["wrong_day", "uv_cycle", "collection_mismatch"]
