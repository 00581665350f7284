"""The README's main command: a whole branch in simulation, end to end on real parts."""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from branchsim import LocalBroker
from branchsim.branch import BRANCH, business_day_start, main, parse_start

ROOT = Path(__file__).resolve().parents[1]

WIB = timezone(timedelta(hours=7))


def _stored(work: Path) -> dict[str, int]:
    events = work / "backoffice" / "events.db"
    return dict(sqlite3.connect(events).execute("SELECT type, count(*) FROM events GROUP BY type"))


@pytest.mark.slow
def test_a_simulated_branch_checks_in_participants_and_logs_deposits(tmp_path: Path) -> None:
    work = tmp_path / "branch"
    start = "2026-06-15T07:30:00+07:00"
    # 400 simulated seconds at x10: the office full, the line cut and the collections each
    # get seconds of wall time, which a busy machine (or a parallel run) needs; x20 gave half.
    argv = ["--duration-s", "40", "--speed", "10", "--kiosks", "2", "--start", start]
    assert main([*argv, "--dir", str(work)]) == 0

    events = work / "backoffice" / "events.db"
    by_type = _stored(work)
    assert by_type.get("kiosk.ticket.issued", 0) >= 4
    assert by_type.get("dropbox.deposit", 0) >= 3
    assert by_type.get("dropbox.collection_confirmed", 0) == 1
    assert by_type.get("dropbox.collection_mismatch", 0) == 1
    # Both kiosks took part, and every ticket they printed is a PNG.
    devices = {row[0] for row in sqlite3.connect(events).execute("SELECT device_id FROM events")}
    assert {f"{BRANCH}-kiosk-1", f"{BRANCH}-kiosk-2", f"{BRANCH}-dropbox-1"} <= devices
    tickets = list(work.glob(f"{BRANCH}-kiosk-*/tickets/ticket-*.png"))
    [(printed,)] = sqlite3.connect(events).execute(
        "SELECT count(*) FROM events WHERE type = 'kiosk.ticket.issued'"
        " AND json_extract(payload, '$.delivery') = 'printed'"
    )
    assert len(tickets) >= printed > 0
    # The day is accounted for: nothing lost, nothing stored twice, and a report to read.
    summary = json.loads((work / "summary.json").read_text(encoding="utf-8"))
    total = summary["total"]
    assert total["events_lost"] == 0 and total["duplicates_stored"] == 0
    assert total["tickets_issued"] == by_type["kiosk.ticket.issued"]
    assert total["events_recorded"] >= total["events_stored"] == sum(by_type.values())
    assert set(summary["devices"]) == {
        f"{BRANCH}-kiosk-1",
        f"{BRANCH}-kiosk-2",
        f"{BRANCH}-dropbox-1",
    }
    assert summary["duplicate_ticket_numbers"] == 0
    # The line to head office was cut and restored mid-run, and the devices kept working.
    [outage] = summary["outages"]
    assert outage["start"] < outage["end"]
    assert (work / "report.html").read_text(encoding="utf-8").count("<svg") == 4
    # Every case of the scripted day happened and is in the summary (issue 9, item 4).
    refused, cases = total["checkins_refused"], total["day_cases"]
    for reason in ("too_early", "too_late", "wrong_branch", "wrong_day", "cancelled"):
        assert refused.get(reason, 0) >= 1, (reason, refused)
    assert refused.get("already_checked_in", 0) >= 1, refused  # the replayed screenshot
    for case in ("walkin_JHT", "walkin_JKK", "walkin_JKM", "walkin_JP", "party_checked_in",
                 "rested_and_passed", "fever_referral", "told_to_wait_outside", "wrong_pin",
                 "tamper_alarm", "uv_cycle"):  # fmt: skip
        assert cases.get(case, 0) >= 1, (case, cases)
    # paper out and refilled, at the kiosk and at the dropbox's receipt printer
    for device in (f"{BRANCH}-kiosk-1", f"{BRANCH}-dropbox-1"):
        mine = summary["devices"][device]["day_cases"]
        assert mine.get("paper_out", 0) >= 1 and mine.get("paper_refilled", 0) >= 1, mine
    assert total["collections"] == {"confirmed": 1, "mismatch": 1}
    assert total["temperature_referrals"] >= 1
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
    total = json.loads((work / "summary.json").read_text(encoding="utf-8"))["total"]
    assert total["events_lost"] == 0 and total["duplicates_stored"] == 0
    assert total["tickets_issued"] >= 1
    # Booked participants were welcome at their slot: no booking refused as too early or late,
    # nor for its day when they came 20 min early for a 00:00 slot (but the day's script's
    # bookings, which come early, late or on the wrong day on purpose).
    scripted = set(json.loads((work / "script" / "bookings.json").read_text()).values())
    reasons = [
        reason
        for reason, booking_id in sqlite3.connect(work / "backoffice" / "events.db").execute(
            "SELECT json_extract(payload, '$.reason'), json_extract(payload, '$.booking_id')"
            " FROM events WHERE type = 'kiosk.checkin.refused'"
        )
        if booking_id not in scripted
    ]
    assert not {"too_early", "too_late", "wrong_day", "expired"} & set(reasons), reasons
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
    # 9999-12-31 stopped the run at start with "date value out of range"
    for far in ("9999-12-31T23:59:59+07:00", "2106-06-01T08:00:00+07:00", "1999-12-31T08:00Z"):
        with pytest.raises(argparse.ArgumentTypeError, match="from 2000-01-01 to 2105-12-31"):
            parse_start(far)
    assert parse_start("2105-12-31T08:00:00+07:00").year == 2105


def test_a_failed_start_stops_what_it_started_and_logs_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a back office that never subscribes (the broker is already running by then)
    from backoffice.receiver import Receiver
    from branchsim import bridge

    brokers: list[LocalBroker] = []

    class Recorded(LocalBroker):
        def start(self, timeout: float = 10.0) -> None:
            brokers.append(self)
            super().start(timeout)

    monkeypatch.setattr(bridge, "LocalBroker", Recorded)
    monkeypatch.setattr(Receiver, "wait_ready", lambda self, timeout: False)
    work = tmp_path / "branch"

    # WHEN the branch starts
    code = main(["--duration-s", "5", "--dir", str(work), "--start", "2026-06-15T07:30:00+07:00"])

    # THEN it says so, both brokers are stopped, and the log has the reason with its traceback
    assert code == 1
    assert len(brokers) == 2 and not any(b.running for b in brokers)
    log = (work / "branch.log").read_text(encoding="utf-8")
    assert "could not start" in log and "Traceback" in log and "did not subscribe" in log


def test_a_folder_that_is_not_a_simulation_s_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "keep.txt").write_text("mine")

    assert main(["--duration-s", "5", "--dir", str(mine)]) == 2

    assert (mine / "keep.txt").read_text() == "mine"
    assert "--force" in capsys.readouterr().out


@pytest.mark.slow
def test_sigterm_ends_the_branch_with_every_process_stopped(tmp_path: Path) -> None:
    work = tmp_path / "branch"
    argv = [sys.executable, "-m", "branchsim", "--dir", str(work), "--kiosks", "1"]
    argv += ["--start", "2026-06-15T07:30:00+07:00", "--speed", "20"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert process.stdout is not None
        for line in process.stdout:  # wait until it runs
            if "Ctrl-C" in line:
                break
        mosquitto_pid = _mosquitto_of(work)
        assert mosquitto_pid is not None
        time.sleep(2)  # let it do some work first

        # WHEN it is told to stop (as systemd or `kill` does; Ctrl-C takes the same path)
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    # THEN it stopped its devices and its broker, and summed up the day
    assert process.returncode == 0, out
    assert not Path(f"/proc/{mosquitto_pid}").exists()
    log = (work / "branch.log").read_text(encoding="utf-8")
    assert "branch stopped in" in log and "did not stop in time" not in log


def _mosquitto_of(work: Path) -> int | None:
    """The pid of the mosquitto running the config under `work`."""
    config = str(work.resolve() / "brokers" / "branch" / "mosquitto.conf")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if config.encode() in cmdline:
            return int(proc.name)
    return None


def test_the_outage_falls_mid_run_or_mid_day() -> None:
    from branchsim.branch import outage_window

    assert outage_window(60, 10.0) == (180.0, 330.0)  # 18-33 s of a 60 s run, then catch-up
    assert outage_window(None, 10.0) == (4.5 * 3600, 5 * 3600)  # 12:00-12:30 of a whole day


def test_the_summary_table_keeps_every_case_readable_on_80_columns() -> None:
    """GIVEN a day of two kiosks and a dropbox, printed on an 80-column terminal or a log
    THEN every case's name is there whole (they ended in "…": "fever_referr…", "walkin_J…")."""
    import io

    from rich.console import Console

    from branchsim.branch import summary_table

    cases = {"fever_referral": 2, "paper_refilled": 1, "told_to_wait_outside": 9, "walkin_JKM": 1}
    counts = dict.fromkeys(
        ("events_recorded", "events_stored", "events_pending", "events_lost",
         "duplicates_stored", "tickets_issued", "tickets_printed", "deposits"), 0,
    )  # fmt: skip
    column = {**counts, "checkins_refused": {"wrong_branch": 1}, "collections": {},
              "day_cases": cases}  # fmt: skip
    devices = ("jakarta-salemba-kiosk-1", "jakarta-salemba-kiosk-2", "jakarta-salemba-dropbox-1")
    document = {"total": column, "devices": dict.fromkeys(devices, column)}
    console = Console(width=80, file=io.StringIO(), color_system=None)
    console.print(summary_table(document))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "…" not in text
    rows = {line.split("│")[1].strip(): line.split("│")[2:] for line in text.splitlines()
            if line.startswith("│") and line.split("│")[1].strip()}  # fmt: skip
    assert all(rows[name][0].strip() == str(count) for name, count in cases.items())
    assert rows["collections"][0].strip() == "0" and rows["wrong_branch"][0].strip() == "1"
