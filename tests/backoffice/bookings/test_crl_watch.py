"""bookings.crl_watch: the serving API says when its client CRL is due or has run out (log,
systemd status, /healthz), on its own clock, and says it again while it lasts."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from backoffice.bookings.crl_watch import LOOK_EVERY_S, CrlWatch
from uplink.clock import ManualClock

NEXT_UPDATE = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
HOUR = 3600.0
DAY = 24 * HOUR


def _watch(start: dt.datetime) -> tuple[CrlWatch, ManualClock, list[str], list[dt.datetime]]:
    clock = ManualClock(start)
    statuses: list[str] = []
    crl = [NEXT_UPDATE]  # the CRL in force: a test copies a renewed one in by replacing it
    return CrlWatch(lambda: crl[0], clock, status=statuses.append), clock, statuses, crl


def _said(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    said = [(r.levelno, r.getMessage()) for r in caplog.records]
    caplog.clear()
    return said


def test_a_crl_far_from_its_next_update_is_serving_and_quiet(
    caplog: pytest.LogCaptureFixture,
) -> None:
    watch, clock, statuses, _ = _watch(NEXT_UPDATE - dt.timedelta(days=40))
    with caplog.at_level(logging.INFO, logger="backoffice.bookings.crl_watch"):
        due = watch.look()
        clock.advance(DAY)
        watch.look()
    assert due is not None and due.status == "pass" and watch.due is not None
    assert statuses == ["serving"]  # said once, at the first look
    assert caplog.records == []


def test_due_within_30_days_is_a_daily_warning_with_the_fix(
    caplog: pytest.LogCaptureFixture,
) -> None:
    watch, clock, statuses, _ = _watch(NEXT_UPDATE - dt.timedelta(days=30, seconds=1))
    with caplog.at_level(logging.INFO, logger="backoffice.bookings.crl_watch"):
        assert watch.look() is not None and watch.due is not None
        assert watch.due.status == "pass"
        clock.advance(2)
        assert watch.look() is not None and watch.due.status == "warn"
        ((level, message),) = _said(caplog)
        assert level == logging.WARNING
        assert message.startswith("client CRL next update is due 2027-01-01 00:00 UTC (in 29 days)")
        assert "from then every client is refused" in message and "provision ca crl" in message
        assert statuses[-1] == f"serving; {message}"
        clock.advance(12 * HOUR)  # looked at many times in between: said once a day
        for _ in range(5):
            clock.advance(LOOK_EVERY_S)
            watch.look()
        assert _said(caplog) == []
        assert len(statuses) == 2
        clock.advance(12 * HOUR)
        watch.look()
        assert [level for level, _ in _said(caplog)] == [logging.WARNING]
    assert len(statuses) == 3  # said again with the log: its days left stay true
    assert statuses[-1].startswith("serving; client CRL next update is due 2027-01-01 00:00 UTC")
    assert "(in 28 days)" in statuses[-1]


def test_run_out_while_serving_is_an_hourly_error_then_a_renewed_crl_ends_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """GIVEN an API serving with a CRL due in an hour WHEN its next update passes THEN an ERROR
    with the fix, repeated hourly, and systemd's status says every kiosk is refused; WHEN a
    renewed CRL is copied in THEN one INFO line and the status is "serving" again."""
    watch, clock, statuses, crl = _watch(NEXT_UPDATE - dt.timedelta(hours=1))
    with caplog.at_level(logging.INFO, logger="backoffice.bookings.crl_watch"):
        watch.look()
        _said(caplog)
        clock.advance(HOUR)  # the very second of its next update: OpenSSL refuses from now on
        assert watch.look() is not None and watch.due is not None and watch.due.status == "fail"
        ((level, message),) = _said(caplog)
        assert level == logging.ERROR
        assert message.startswith("client CRL next update was due 2027-01-01 00:00 UTC")
        assert "every client is refused at the handshake" in message
        assert "`provision ca crl --dir CA`" in message and "copy its crl.pem here" in message
        assert statuses[-1] == f"serving; {message}"
        clock.advance(HOUR / 2)
        watch.look()
        assert _said(caplog) == []
        clock.advance(HOUR / 2)
        watch.look()
        assert [level for level, _ in _said(caplog)] == [logging.ERROR]
        crl[0] = NEXT_UPDATE + dt.timedelta(days=365)
        clock.advance(LOOK_EVERY_S)
        assert watch.look() is not None and watch.due.status == "pass"
        ((level, message),) = _said(caplog)
        assert level == logging.INFO and message.startswith("the client CRL is in force again")
    assert statuses[-1] == "serving"


def test_a_look_within_the_second_reads_nothing_again() -> None:
    reads: list[int] = []
    clock = ManualClock(NEXT_UPDATE)

    def next_update() -> dt.datetime:
        reads.append(1)
        return NEXT_UPDATE

    watch = CrlWatch(next_update, clock, status=lambda _text: None)
    watch.look()
    watch.look()
    assert len(reads) == 1 and watch.due is not None and watch.due.status == "fail"
    clock.advance(LOOK_EVERY_S)
    watch.look()
    assert len(reads) == 2


def test_no_crl_read_says_nothing() -> None:
    statuses: list[str] = []
    watch = CrlWatch(lambda: None, ManualClock(NEXT_UPDATE), status=statuses.append)
    assert watch.look() is None and watch.due is None and statuses == []
