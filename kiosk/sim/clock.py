"""A clock for live simulations: time runs `speed` times faster, from now or a chosen moment."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class ScaledClock:
    """Timers (rests, screen timeouts) pass `speed` times faster.

    Without `start_at` the date and time of day are the real ones (slots are checked against
    now). With `start_at` the wall clock starts there and also runs `speed` times faster, so a
    simulated day of bookings plays out in minutes.
    """

    def __init__(self, speed: float = 1.0, *, start_at: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        if start_at is not None and start_at.tzinfo is None:
            raise ValueError("start_at must be timezone-aware")
        self.speed = speed
        self.start_at = start_at
        self._start = time.monotonic()

    def monotonic(self) -> float:
        return self._start + (time.monotonic() - self._start) * self.speed

    def now(self) -> datetime:
        if self.start_at is None:
            return datetime.now(UTC)
        elapsed = (time.monotonic() - self._start) * self.speed
        return (self.start_at + timedelta(seconds=elapsed)).astimezone(UTC)

    def synced(self) -> bool:
        return True
