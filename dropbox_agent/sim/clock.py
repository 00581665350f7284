"""A clock for live simulations: real wall time, monotonic time running `speed` times faster."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class ScaledClock:
    """Timers (debounce, jam limit, UV-C cycle) pass `speed` times faster; dates stay real."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.speed = speed
        self._start = time.monotonic()

    def monotonic(self) -> float:
        return self._start + (time.monotonic() - self._start) * self.speed

    def now(self) -> datetime:
        return datetime.now(UTC)

    def synced(self) -> bool:
        return True
