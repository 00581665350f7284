"""Simulated fill sensor, receipt printer and keypad/scanner, each able to fail on request."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from dropbox_agent.errors import PrinterError
from dropbox_agent.ports import SlipLines

logger = logging.getLogger(__name__)


class SimulatedFillSensor:
    """An ultrasonic sensor whose reading is set by the scenario (None: no echo)."""

    def __init__(self, distance_cm: float | None = 55.0) -> None:
        self.distance_cm = distance_cm
        self.readings = 0

    def set_distance(self, distance_cm: float | None) -> None:
        self.distance_cm = distance_cm

    def read_distance_cm(self) -> float | None:
        self.readings += 1
        return self.distance_cm

    def close(self) -> None:
        """Nothing to release."""


class SimulatedPrinter:
    """Keeps each slip's text (and writes it to `out_dir` when given); `fail()` injects faults.

    Args:
        out_dir: where to write slip-NNNN.txt files, or None to keep them in memory only.
    """

    def __init__(self, out_dir: Path | None = None) -> None:
        self.out_dir = out_dir
        self.slips: list[SlipLines] = []
        self.fault: str | None = None
        self._lock = threading.Lock()
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)

    def fail(self, code: str | None) -> None:
        """Make the next prints fail with `code` ("paper_out", "offline"), or succeed (None)."""
        self.fault = code

    def print_slip(self, lines: SlipLines) -> None:
        if self.fault is not None:
            raise PrinterError(f"simulated printer fault: {self.fault}", code=self.fault)
        with self._lock:
            self.slips.append(list(lines))
            number = len(self.slips)
        if self.out_dir is not None:
            text = "\n".join(content for style, content in lines if style != "qr")
            (self.out_dir / f"slip-{number:04d}.txt").write_text(text + "\n", encoding="ascii")

    def close(self) -> None:
        """Nothing to release."""


class SimulatedKeypad:
    """A keypad / code scanner that the scenario or the keyboard types into."""

    def __init__(self) -> None:
        self._sink: Callable[[str], None] | None = None

    def start(self, sink: Callable[[str], None]) -> None:
        self._sink = sink

    def type_line(self, line: str) -> None:
        """Enter one line as if typed then Enter (or scanned)."""
        if self._sink is None:
            logger.warning("simulated keypad not started; line ignored")
            return
        self._sink(line)

    def close(self) -> None:
        self._sink = None
