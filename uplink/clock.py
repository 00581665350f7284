"""Time as devices see it: UTC wall clock, monotonic clock, and whether the wall clock is synced."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from uplink.timesync import TIMESYNC_FLAG, SyncSource, TimedatectlSync, clock_trusted


class Clock(Protocol):
    """What the device code needs from time; injected so tests never sleep."""

    def monotonic(self) -> float: ...

    def now(self) -> datetime: ...

    def synced(self) -> bool: ...


class SystemClock:
    """The real clocks. `synced()` asks a `uplink.timesync.SyncSource` (systemd's flag file,
    else `timedatectl`, cached) and refuses a time before the software's build date.

    Args:
        synced_flag: systemd-timesyncd's flag file (None: ask timedatectl only).
        assume_synced: say synced without asking (simulations on a host's own clock).
        sync: the source to ask instead (a `SimulatedSync` in simulations and tests).
    """

    def __init__(
        self,
        synced_flag: Path | None = TIMESYNC_FLAG,
        *,
        assume_synced: bool = False,
        sync: SyncSource | None = None,
    ):
        self._assume_synced = assume_synced
        self._sync = sync or TimedatectlSync(flag=synced_flag)

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def synced(self) -> bool:
        if self._assume_synced:
            return True
        return clock_trusted(self._sync, self.now())


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


class SimulatedClock:
    """One simulated time for a whole simulation: it starts at `start` and runs `speed` times
    faster than the machine's monotonic clock; ships with the product for simulations.

    Every part of a simulated branch (the issuer of bookings, the kiosks' verifiers and tickets,
    the dropbox, the occupancy) takes its time from one instance, so the simulated day is the
    same everywhere whatever the machine's own date and hour are.

    Args:
        start: The simulated instant at creation (timezone-aware).
        speed: Simulated seconds per real second (positive).
        real_monotonic: The real clock it scales (tests pass a fake).

    Raises:
        ValueError: `speed` is not positive or `start` is naive.
    """

    def __init__(
        self,
        start: datetime,
        speed: float = 1.0,
        *,
        real_monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError(f"start must be timezone-aware, got {start.isoformat()}")
        self.start = start.astimezone(UTC)
        self.speed = float(speed)
        self._real = real_monotonic
        self._t0 = real_monotonic()
        self._jumped_s = 0.0

    def elapsed_s(self) -> float:
        """Simulated seconds since the start."""
        return (self._real() - self._t0) * self.speed

    def monotonic(self) -> float:
        return self._t0 + self.elapsed_s()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed_s() + self._jumped_s)

    def jump(self, seconds: float) -> None:
        """Set the wall clock `seconds` forward (or back, negative), as a device whose clock is
        corrected does; `monotonic` and `elapsed_s` go on undisturbed."""
        self._jumped_s += seconds

    def synced(self) -> bool:
        return True

    def real_s(self, simulated_s: float) -> float:
        """How many real seconds `simulated_s` simulated seconds take."""
        return simulated_s / self.speed

    def with_real_timers(self) -> Clock:
        """The same simulated date and hour with real-time timers: for a device's uplink, whose
        ack timeouts and retries must stay as on a device while its events carry simulated time."""
        return _RealTimers(self)


class _RealTimers:
    """`SimulatedClock.with_real_timers()`: simulated `now`, real `monotonic`."""

    def __init__(self, clock: SimulatedClock) -> None:
        self._clock = clock

    def monotonic(self) -> float:
        return self._clock._real()

    def now(self) -> datetime:
        return self._clock.now()

    def synced(self) -> bool:
        return True


def real_s(clock: Clock, seconds: float) -> float:
    """How many real seconds `seconds` of `clock`'s time take: a `SimulatedClock` knows its
    speed; every other clock runs at the machine's pace (a `ManualClock` moves only when told,
    so its waits are bounded by real time as a device's are)."""
    return clock.real_s(seconds) if isinstance(clock, SimulatedClock) else seconds


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, the one timestamp format on the wire."""
    utc = moment.astimezone(UTC)
    # Four-digit year always: strftime("%Y") writes year 1 as "1", which no parser takes back.
    return f"{utc.year:04d}-" + utc.strftime("%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
