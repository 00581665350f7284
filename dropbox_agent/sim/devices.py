"""Simulated fill sensor, receipt printer and keypad/scanner, each able to fail on request."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from dropbox_agent.ports import SlipLines
from receipts import Element, PaperStatus, fit
from receipts.sim import SimulatedPrinter as SharedSimulatedPrinter

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
    """The shared simulated receipt printer for slips: real ESC/POS bytes, each slip kept and,
    with `out_dir`, rendered to ``slip-NNNN.png`` like the kiosk's tickets; `fail()` injects
    faults.

    Args:
        out_dir: where to write the slips as PNGs, or None to keep them in memory only.
        columns: characters per line (the config's ``printer.columns``).
        paper_dots: printable width in dots (the config's ``printer.paper_dots``).
    """

    def __init__(
        self, out_dir: Path | None = None, *, columns: int = 32, paper_dots: int = 384
    ) -> None:
        self.out_dir = out_dir
        self.columns = columns
        self.device = SharedSimulatedPrinter(out_dir, columns=columns, paper_dots=paper_dots)
        self.slips: list[list[Element]] = []
        self.fault: str | None = None
        self._lock = threading.Lock()

    def fail(self, code: str | None) -> None:
        """Make the next prints fail with `code` ("paper_out", "offline"), or succeed (None)."""
        self.fault = code
        self.device.fail(code)

    def status(self) -> PaperStatus:
        """What the simulated printer says (paper out or offline after `fail`)."""
        return self.device.status()

    def print_slip(self, lines: SlipLines) -> None:
        with self._lock:
            self.device.print_elements(fit(lines, self.columns))
            self.slips.append(list(lines))

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
