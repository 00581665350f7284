"""A simulated thermometer: readings and faults set by the test or simulation."""

from __future__ import annotations

import errno
import threading
from collections import deque
from collections.abc import Iterable

from kiosk.domain.temperature import Reading
from kiosk.errors import ThermometerError


class SimulatedThermometer:
    """A `Thermometer` that returns what it is told.

    `set_object(36.4)` sets a steady forehead reading; `queue(...)` plays readings first;
    `fail("missing")` makes reads raise until `fail(None)`. Every read is counted.
    """

    def __init__(self, object_c: float = 36.5, ambient_c: float = 27.0) -> None:
        self._lock = threading.Lock()
        self.object_c = object_c
        self.ambient_c = ambient_c
        self._queued: deque[float] = deque()
        self._fault: str | None = None
        self.reads = 0

    def set_object(self, object_c: float) -> None:
        with self._lock:
            self.object_c = object_c
            self._queued.clear()

    def queue(self, readings: Iterable[float]) -> None:
        """Readings returned first, one per read, before the steady value."""
        with self._lock:
            self._queued.extend(readings)

    def fail(self, code: str | None = "missing") -> None:
        """Make reads fail with `code` (missing, error_flag, bad_checksum), or stop failing."""
        self._fault = code

    def read(self) -> Reading:
        with self._lock:
            self.reads += 1
            if self._fault is not None:
                raise ThermometerError(
                    f"simulated thermometer fault: {self._fault}", self._fault
                ) from OSError(errno.EREMOTEIO, "Remote I/O error")
            value = self._queued.popleft() if self._queued else self.object_c
            return Reading(value, self.ambient_c)
