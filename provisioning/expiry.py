"""When a certificate or CRL runs out: fail once it has, warn 30 days ahead with the renewal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

WARN_AHEAD = dt.timedelta(days=30)
"""How long before a certificate or CRL runs out `provision check` starts to warn."""

# What renews each, as the warnings and failures say it.
RENEW_DEVICE = (
    "renew it on this device, with the CA stick: `provision device rotate --ca /mnt/lapak-ca`"
)
RENEW_CA = (
    "make the fleet's next CA before then (`provision ca init --dir NEW`), add its certificate "
    "to every broker's and device's ca.crt, and re-issue each device from it (`provision device "
    "rotate --ca NEW`) and each broker (`provision render --role broker --ca NEW ...`)"
)
RENEW_BROKER = (
    "on the broker, with the CA stick: `provision render --role broker --ca /mnt/lapak-ca "
    "--server-name NAME` (it re-issues a certificate within 30 days of its end), then "
    "`systemctl restart mosquitto`"
)
RENEW_CRL = (
    "re-sign it: `provision ca crl --dir /mnt/lapak-ca`, copy crl.pem to every broker's "
    "/etc/mosquitto/lapak/crl.pem and `systemctl restart mosquitto` (a broker started with an "
    "outdated CRL refuses every device)"
)


@dataclass(frozen=True)
class Due:
    """One dated thing and how it stands at `now`.

    Attributes:
        status: "pass" (more than 30 days left), "warn" (30 days or fewer) or "fail" (past).
        detail: What ends when, e.g. "device certificate expires 2026-12-20 (in 19 days)".
        fix: The command that renews it (empty when it passes).
    """

    status: Literal["pass", "warn", "fail"]
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


def _days(left: dt.timedelta) -> str:
    days = left.days
    if days == 0:
        hours = int(left.total_seconds() // 3600)
        return f"{hours} hours" if hours != 1 else "1 hour"
    return f"{days} days" if days != 1 else "1 day"
