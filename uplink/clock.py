"""Time as devices see it: UTC wall clock, monotonic clock, and whether the wall clock is synced."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

# systemd-timesyncd creates this file once the clock has been synchronised since boot.
TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")


class Clock(Protocol):
    """What the device code needs from time; injected so tests never sleep."""

    def monotonic(self) -> float: ...

    def now(self) -> datetime: ...

    def synced(self) -> bool: ...


class SystemClock:
    """The real clocks. `synced_flag` is checked on each call (cheap `stat`)."""

    def __init__(self, synced_flag: Path | None = TIMESYNC_FLAG, *, assume_synced: bool = False):
        self._flag = synced_flag
        self._assume_synced = assume_synced

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def synced(self) -> bool:
        if self._assume_synced:
            return True
        return self._flag is not None and self._flag.exists()


class ManualClock:
    """A clock that moves only when told to; ships with the product for simulations and tests."""

    def __init__(self, start: datetime | None = None, *, synced: bool = True):
        self._wall = start or datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
        self._mono = 1000.0
        self._synced = synced

    def monotonic(self) -> float:
        return self._mono

    def now(self) -> datetime:
        return self._wall

    def synced(self) -> bool:
        return self._synced

    def set_synced(self, synced: bool) -> None:
        self._synced = synced

    def advance(self, seconds: float) -> None:
        self._mono += seconds
        self._wall += timedelta(seconds=seconds)


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, the one timestamp format on the wire."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )
