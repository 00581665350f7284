"""configkit.expiry: one rule for what runs out (30 days' warning, failure once past), shared by
`provision` and the back office."""

from __future__ import annotations

import datetime as dt

from configkit.expiry import WARN_AHEAD, assess, assess_crl

DAY = dt.timedelta(days=1)
NOW = dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC)


def test_assess_passes_warns_30_days_ahead_and_fails_once_past() -> None:
    ends = NOW + 31 * DAY
    assert assess("CRL", ends, NOW, "renew").status == "pass"
    warned = assess("device certificate", ends, NOW + 2 * DAY, "run X")
    assert warned.status == "warn" and warned.fix == "run X"
    assert warned.detail == "device certificate expires 2027-01-01 00:00 UTC (in 29 days)"
    assert assess("CRL", ends, ends - 30 * DAY, "r").status == "warn"  # the 30th day
    assert assess("CRL", ends, ends - 30 * DAY - dt.timedelta(seconds=1), "r").fix == ""
    hours = assess("CRL", ends, ends - dt.timedelta(hours=5), "r")
    assert hours.detail.endswith("(in 5 hours)")
    past = assess("CA certificate", ends, ends + 3 * DAY, "make a new CA")
    assert past.status == "fail" and past.detail.endswith(
        "expired 2027-01-01 00:00 UTC (3 days ago)"
    )
    assert assess("CA", ends, ends, "r").status == "fail"  # not valid after its end
    assert WARN_AHEAD == 30 * DAY


def test_a_crl_is_said_by_its_next_update() -> None:
    due = NOW + 10 * DAY
    soon = assess_crl("CRL", due, NOW, "re-sign it")
    assert soon.status == "warn" and soon.fix == "re-sign it"
    assert soon.detail == "CRL next update is due 2026-12-11 00:00 UTC (in 10 days)"
    late = assess_crl("CRL", due, due + dt.timedelta(hours=1), "re-sign it")
    assert late.status == "fail"
    assert late.detail == "CRL next update was due 2026-12-11 00:00 UTC (1 hour ago)"
    assert assess_crl("CRL", due, due - 31 * DAY, "re-sign it").fix == ""
