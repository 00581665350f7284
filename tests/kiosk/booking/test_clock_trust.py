"""Time the kiosk can trust: slot tolerances across midnight, no date refusals on an unsynced
clock (a staff check instead), the sync source behind a port, and the fault said and recorded."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kiosk.booking.clockwatch import ALERT, ClockWatch
from tests.kiosk.booking import testkeys as k
from uplink.clock import ManualClock, SystemClock
from uplink.timesync import SANITY_FLOOR, SimulatedSync, TimedatectlSync, clock_trusted


def at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2020, 6, day, hour, minute, tzinfo=k.WIB)


def slot_token(start: datetime, end: datetime) -> str:
    return k.make_token(k.standard_booking(slot_start=start, slot_end=end))


@pytest.mark.parametrize(
    ("start", "end", "now", "reason", "wording"),
    [
        (at(15, 23, 0), at(15, 23, 59), at(16, 0, 5), "ok", ""),  # late by minutes
        (at(15, 23, 0), at(15, 23, 59), at(16, 0, 29), "ok", ""),
        (at(15, 23, 0), at(15, 23, 59), at(16, 0, 35), "wrong_day", "yesterday"),
        (at(16, 0, 0), at(16, 1, 0), at(15, 23, 55), "ok", ""),  # early by minutes
        (at(16, 0, 0), at(16, 1, 0), at(15, 23, 30), "ok", ""),
        (at(16, 0, 0), at(16, 1, 0), at(15, 23, 25), "wrong_day", "tomorrow"),
        (at(15, 9, 0), at(15, 10, 0), at(15, 8, 25), "too_early", ""),  # same day as before
    ],
)
def test_tolerances_apply_across_midnight(
    start: datetime, end: datetime, now: datetime, reason: str, wording: str
) -> None:
    verdict = k.make_verifier().verify(slot_token(start, end), now)
    assert verdict.reason == reason
    if wording == "tomorrow":
        assert "besok" in verdict.message_id and "tomorrow" in verdict.message_en
    if wording == "yesterday":
        assert "kemarin" in verdict.message_id and "yesterday" in verdict.message_en


def unsynced_verifier(synced: bool) -> Any:
    verifier = k.make_verifier()
    return type(verifier)(
        verifier.rules, verifier.facts, verifier.checkins, clock_synced=lambda: synced
    )


@pytest.mark.parametrize(
    ("now", "by_the_clock"),
    [
        (at(14, 17, 0), "wrong_day"),  # the power-cut case: yesterday 17:00, not synced
        (at(15, 7, 0), "too_early"),
        (at(15, 11, 0), "too_late"),
        (at(16, 9, 0), "wrong_day"),
        (datetime(2020, 6, 14, 3, 0, tzinfo=UTC) - timedelta(hours=3), "not_yet_valid"),
    ],
)
def test_an_unsynced_clock_refuses_no_booking_for_its_date_but_asks_staff(
    now: datetime, by_the_clock: str, caplog: pytest.LogCaptureFixture
) -> None:
    token = slot_token(at(15, 8, 30), at(15, 9, 0))
    assert unsynced_verifier(True).verify(token, now).reason == by_the_clock

    verdict = unsynced_verifier(False).verify(token, now)
    assert verdict.accepted and verdict.reason == "ok"
    assert "petugas akan memeriksa" in verdict.next_step_id
    assert "staff will check" in verdict.next_step_en
    assert f"would be refused: {by_the_clock}" in caplog.text


def test_an_unsynced_clock_still_refuses_what_is_not_about_time() -> None:
    verifier = unsynced_verifier(False)
    forged = k.make_token(key=k.KEY_UNKNOWN, key_id=k.kid(k.KEY_CURRENT))
    assert verifier.verify(forged, at(15, 9, 0)).reason == "bad_signature"
    other = k.make_token(k.standard_booking(branch="bali-denpasar"))
    assert verifier.verify(other, at(15, 9, 0)).reason == "wrong_branch"
    in_time = unsynced_verifier(False).verify(k.make_token(), at(15, 9, 10))
    assert in_time.reason == "ok" and "petugas" not in in_time.next_step_id


class Runner:
    def __init__(self, answer: str | Exception) -> None:
        self.answer = answer
        self.calls = 0

    def __call__(self, argv: list[str]) -> str:
        assert argv == ["timedatectl", "show", "-p", "NTPSynchronized", "--value"]
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.mark.parametrize(
    ("answer", "synced"),
    [
        ("yes\n", True),
        ("no\n", False),
        ("", False),
        (FileNotFoundError("timedatectl"), False),
        (subprocess.TimeoutExpired("timedatectl", 2), False),
    ],
)
def test_timedatectl_says_whether_ntp_synchronised(answer: str | Exception, synced: bool) -> None:
    runner = Runner(answer)
    mono = [100.0]
    source = TimedatectlSync(runner, flag=None, monotonic=lambda: mono[0])
    assert source.ntp_synchronized() is synced
    mono[0] += 10
    assert source.ntp_synchronized() is synced and runner.calls == 1  # cached
    mono[0] += 30
    source.ntp_synchronized()
    assert runner.calls == 2


def test_timesyncd_flag_file_is_enough(tmp_path: Path) -> None:
    flag = tmp_path / "synchronized"
    flag.touch()
    runner = Runner("no\n")
    assert TimedatectlSync(runner, flag=flag).ntp_synchronized()
    assert runner.calls == 0


def test_a_time_before_the_build_is_never_trusted() -> None:
    synced = SimulatedSync(True)
    assert clock_trusted(synced, SANITY_FLOOR + timedelta(days=3))
    assert not clock_trusted(synced, SANITY_FLOOR - timedelta(hours=1))
    assert not clock_trusted(SimulatedSync(False), SANITY_FLOOR + timedelta(days=3))
    assert not SystemClock(sync=SimulatedSync(False)).synced()
    assert SystemClock(sync=SimulatedSync(False), assume_synced=True).synced()


def test_the_clock_fault_is_said_while_it_lasts_and_recorded_on_each_change() -> None:
    clock = ManualClock(synced=False)
    recorded: list[tuple[str, dict[str, Any]]] = []
    watch = ClockWatch(clock, lambda name, payload: recorded.append((name, dict(payload))))

    assert watch.state() == {"alerts": [ALERT]}
    assert watch.state() == {"alerts": [ALERT]}
    assert [(p["component"], p["active"]) for _, p in recorded] == [("clock", True)]

    clock.set_synced(True)
    assert watch.state() == {}
    assert [p["active"] for _, p in recorded] == [True, False]
    assert {name for name, _ in recorded} == {"device.fault"}
