"""Field types several configs share."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator


def check_time_zone(value: str) -> str:
    """`value` if it names an IANA time zone, else ValueError saying which ones Indonesia uses."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}; use Asia/Jakarta (WIB), Asia/Makassar (WITA) or "
            "Asia/Jayapura (WIT)"
        ) from None
    return value


TimeZoneName = Annotated[str, AfterValidator(check_time_zone)]
"""An IANA time zone name, checked when the config is loaded."""
