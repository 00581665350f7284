"""When a certificate or CRL runs out: fail once it has, warn 30 days ahead with the renewal.

Shared by `provision` (check, render, ca list) and the back office (the booking API's client
CRL at `config check` and while it serves), which may not import each other: one rule, one
wording.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

WARN_AHEAD = dt.timedelta(days=30)
"""How long before a certificate or CRL runs out the tools start to warn."""

DueStatus = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class Due:
    """One dated thing and how it stands at `now`.

    Attributes:
        status: "pass" (more than 30 days left), "warn" (30 days or fewer) or "fail" (past).
        detail: What ends when, e.g. "device certificate expires 2026-12-20 (in 19 days)".
        fix: The command that renews it (empty when it passes).
    """

    status: DueStatus
    detail: str
    fix: str


def assess(
    what: str,
    ends: dt.datetime,
    now: dt.datetime,
    renew: str,
    *,
    ends_as: str = "expires",
    ended_as: str = "expired",
) -> Due:
    """How `what`, which ends at `ends`, stands at `now`.

    Args:
        what: e.g. "device certificate" or "CRL".
        ends: Its notAfter (or the CRL's nextUpdate), timezone-aware.
        now: The injected time.
        renew: The command (with a word of context) that renews it.
        ends_as: How to say it ends ("expires"; a CRL's "next update is due").
        ended_as: How to say it has ended ("expired"; "next update was due").
    """
    left = ends - now
    day = f"{ends:%Y-%m-%d %H:%M} UTC"
    if left <= dt.timedelta(0):
        return Due("fail", f"{what} {ended_as} {day} ({_days(-left)} ago)", renew)
    status: Literal["pass", "warn"] = "warn" if left <= WARN_AHEAD else "pass"
    return Due(
        status, f"{what} {ends_as} {day} (in {_days(left)})", renew if status == "warn" else ""
    )


def assess_crl(what: str, next_update: dt.datetime, now: dt.datetime, renew: str) -> Due:
    """How a CRL stands at `now`: past its next update, OpenSSL (mosquitto's `crlfile`, the
    booking API's client CRL) refuses every certificate it checks against it.

    Args:
        what: e.g. "CRL" or "CRL /etc/mosquitto/lapak/crl.pem".
        next_update: The CRL's nextUpdate, timezone-aware.
        now: The injected time.
        renew: The command (with a word of context) that re-signs it.
    """
    return assess(
        what,
        next_update,
        now,
        renew,
        ends_as="next update is due",
        ended_as="next update was due",
    )


def _days(left: dt.timedelta) -> str:
    days = left.days
    if days == 0:
        hours = int(left.total_seconds() // 3600)
        return f"{hours} hours" if hours != 1 else "1 hour"
    return f"{days} days" if days != 1 else "1 day"
