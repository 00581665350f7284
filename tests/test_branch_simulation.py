"""The README's main command: a whole branch in simulation, end to end on real parts."""

from __future__ import annotations

import argparse
import sqlite3
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from branchsim.branch import business_day_start, main, parse_start

WIB = timezone(timedelta(hours=7))


def _stored(work: Path) -> dict[str, int]:
    events = work / "backoffice" / "events.db"
    return dict(sqlite3.connect(events).execute("SELECT type, count(*) FROM events GROUP BY type"))


@pytest.mark.slow
def test_a_simulated_branch_checks_in_participants_and_logs_deposits(tmp_path: Path) -> None:
    work = tmp_path / "branch"
    start = "2026-06-15T07:30:00+07:00"
    argv = ["--duration-s", "20", "--speed", "20", "--kiosks", "2", "--start", start]
    assert main([*argv, "--dir", str(work)]) == 0

    events = work / "backoffice" / "events.db"
    by_type = _stored(work)
    assert by_type.get("kiosk.ticket.issued", 0) >= 4
    assert by_type.get("dropbox.deposit", 0) >= 3
    assert by_type.get("dropbox.collection_confirmed", 0) == 1
    # Both kiosks took part, and every ticket they printed is a PNG.
    devices = {row[0] for row in sqlite3.connect(events).execute("SELECT device_id FROM events")}
    assert {"kiosk-1", "kiosk-2", "dropbox-1"} <= devices
    tickets = list(work.glob("kiosk-*/tickets/ticket-*.png"))
    assert len(tickets) >= by_type["kiosk.ticket.issued"]
    # Queue numbers are unique across the kiosks.
    numbers = [
        row[0]
        for row in sqlite3.connect(events).execute(
            "SELECT json_extract(payload, '$.ticket_number') FROM events"
            " WHERE type = 'kiosk.ticket.issued'"
        )
    ]
    assert len(numbers) == len(set(numbers))


@pytest.mark.slow
@pytest.mark.parametrize(
    "start",
    [
        "2026-11-30T23:50:00+07:00",  # a day across WIB midnight: the 23:00-00:00 slot first
        "2026-12-01T00:00:00+07:00",  # WIB midnight
        "2026-12-01T06:59:00+07:00",  # just before the WIB day's business hours
        "2026-11-30T16:59:00Z",  # just before UTC's... and WIB's midnight seen from UTC
    ],
)
def test_the_branch_plays_a_day_starting_at_any_hour(tmp_path: Path, start: str) -> None:
    work = tmp_path / "branch"
    argv = ["--duration-s", "10", "--speed", "20", "--kiosks", "1", "--start", start]

    assert main([*argv, "--dir", str(work)]) == 0

    by_type = _stored(work)
    assert by_type.get("kiosk.ticket.issued", 0) >= 1
    assert by_type.get("dropbox.deposit", 0) >= 1
    # Booked participants were welcome at their slot: no booking refused as too early or late.
    # (Coming 20 min early for a 00:00 slot is still "wrong_day" until the verifier's window
    # crosses midnight: issue 10's part, so that reason is not checked here yet.)
    reasons = [
        row[0]
        for row in sqlite3.connect(work / "backoffice" / "events.db").execute(
            "SELECT json_extract(payload, '$.reason') FROM events"
            " WHERE type = 'kiosk.checkin.refused'"
        )
    ]
    assert not {"too_early", "too_late", "expired"} & set(reasons), reasons
    # Every event carries the simulated day's time, not the machine's.
    stamps = [
        datetime.fromisoformat(row[0].replace("Z", "+00:00"))
        for row in sqlite3.connect(work / "backoffice" / "events.db").execute(
            "SELECT occurred_at FROM events"
        )
    ]
    began = parse_start(start)
    assert stamps
    assert all(began <= at <= began + timedelta(hours=1) for at in stamps), (
        min(stamps),
        max(stamps),
    )


def test_the_default_day_is_the_branch_s_business_day_in_jakarta() -> None:
    opens = business_day_start(date(2026, 11, 30))
    assert opens.astimezone(UTC) == datetime(2026, 11, 30, 0, 30, tzinfo=UTC)


def test_start_must_be_an_instant() -> None:
    assert parse_start("2026-11-30T23:50:00+07:00") == datetime(2026, 11, 30, 23, 50, tzinfo=WIB)
    assert parse_start("2026-11-30T16:59:00Z") == datetime(2026, 11, 30, 16, 59, tzinfo=UTC)
    with pytest.raises(argparse.ArgumentTypeError, match=r"\+07:00"):
        parse_start("2026-11-30T23:50:00")
    with pytest.raises(argparse.ArgumentTypeError, match="ISO 8601"):
        parse_start("tonight")
