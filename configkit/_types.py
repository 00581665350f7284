"""Field types several configs share."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator


def check_time_zone(value: str) -> str:
    """`value` if it names an IANA time zone, else ValueError saying which ones Indonesia uses."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise ValueError(
            f"unknown time zone {value!r}; use Asia/Jakarta (WIB), Asia/Makassar (WITA) or "
            "Asia/Jayapura (WIT)"
        ) from None
    return value


TimeZoneName = Annotated[str, AfterValidator(check_time_zone)]
"""An IANA time zone name, checked when the config is loaded."""

PERIOD_MIN_S = 0.1


def check_period(value: float) -> float:
    """`value` if it is 0 (off) or at least `PERIOD_MIN_S`: a shorter period is a loop that
    floods the outbox and starves the rest (5e-324 passes `ge=0`)."""
    if 0 < value < PERIOD_MIN_S:
        raise ValueError(
            f"is shorter than {PERIOD_MIN_S:g} s; use 0 to switch it off, or a longer period"
        )
    return value


PeriodOrOff = Annotated[float, AfterValidator(check_period)]
"""A period in seconds: 0 switches it off, otherwise at least `PERIOD_MIN_S`."""

_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")


def check_host(value: str) -> str:
    """`value` if it is an IP address or a DNS name (ASCII labels of 1-63 characters, 253 in
    all), else ValueError saying what is wrong and what to write instead."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        pass
    else:
        return value
    name = value[:-1] if value.endswith(".") else value
    if not name:
        raise ValueError("is empty; give a host name or an IP address, e.g. 127.0.0.1")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise ValueError(
            f"{shown!r} is not a host name or an IP address (letters, digits and '-' in dot-"
            "separated labels of at most 63 characters; a non-ASCII name in its xn-- form)"
        )
    return value


HostName = Annotated[str, AfterValidator(check_host)]
"""A host name or IP address, checked when the config is loaded."""
