"""Start-up lines: what a service waits for said once, ready said once, quiet while waiting."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from uplink.clock import ManualClock
from uplink.startup import StartupReport, Wait

AT = datetime(2026, 6, 15, 0, 30, tzinfo=UTC)


def _lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "uplink.startup"]


def test_a_start_says_what_it_waits_for_once_then_ready_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """GIVEN a service waiting for a broker, a camera and booking data
    WHEN it is checked 300 times over 5 minutes while the camera stays away for 150 s
    THEN it says the start line once, reminds of the camera at most once a minute (never of
    the broker, which the uplink reports), and says ready once."""
    clock = ManualClock(AT)
    have = {"broker": False, "camera": False, "data": True}
    report = StartupReport(
        "kiosk jakarta-salemba-kiosk-1",
        [
            Wait("the broker at 127.0.0.1:8883", lambda: have["broker"], needed_to_serve=False),
            Wait("the camera (folder)", lambda: have["camera"]),
            Wait("booking data (trust list)", lambda: have["data"]),
        ],
        clock,
    )
    caplog.set_level(logging.DEBUG, logger="uplink.startup")
    report.begin()
    for second in range(300):
        have["camera"] = second >= 150
        have["broker"] = second >= 200
        ready = report.check()
        assert ready == (second >= 200)
        clock.advance(1.0)
    lines = _lines(caplog)
    assert lines[0] == (
        "INFO",
        "kiosk jakarta-salemba-kiosk-1 starting; waiting for the broker at 127.0.0.1:8883, "
        "the camera (folder), booking data (trust list)",
    )
    reminders = [m for level, m in lines if level == "WARNING"]
    assert reminders == [
        "kiosk jakarta-salemba-kiosk-1 still waiting for the camera (folder) (60 s since start)",
        "kiosk jakarta-salemba-kiosk-1 still waiting for the camera (folder) (120 s since start)",
    ]
    assert [m for _, m in lines if " serving " in m] == [
        "kiosk jakarta-salemba-kiosk-1 serving without the broker at 127.0.0.1:8883 so far "
        "(events stay on the device until it answers)"
    ]
    assert [m for _, m in lines if " ready: " in m] == [
        "kiosk jakarta-salemba-kiosk-1 ready: the broker at 127.0.0.1:8883, the camera (folder), "
        "booking data (trust list)"
    ]
    assert len(lines) == 5  # start, two reminders, serving, ready: nothing per check


def test_a_check_that_raises_means_not_yet(caplog: pytest.LogCaptureFixture) -> None:
    calls = []

    def printer() -> bool:
        calls.append(1)
        if len(calls) < 3:
            raise OSError("no such device")
        return True

    report = StartupReport("dropbox x", [Wait("the printer (file)", printer)], ManualClock(AT))
    assert [report.check() for _ in range(4)] == [False, False, True, True]
    assert len(calls) == 3  # not asked again once it held
