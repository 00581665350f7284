"""The seams between the agent and the outside world; only `app.py` picks what plugs in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from dropbox_agent.domain.model import BoxCounters, Input, MachineInput, Output, OutputMode
from receipts import Element, PaperStatus

# (input, active, monotonic time of the edge)
EdgeSink = Callable[[Input, bool, float], None]
# (component, code, active): a fault the agent reports as it begins and clears
FaultSink = Callable[[str, str, bool], None]
SlipLines = Sequence[Element]
"""A slip as the shared receipt elements (`receipts`), not yet fitted to the paper."""


class BoxIO(Protocol):
    """The box's digital inputs and outputs (gpiozero on a Pi, MockFactory in simulation)."""

    def levels(self) -> dict[Input, bool]:
        """Each configured input's current level (True = blocked / open / tampered / on)."""
        ...

    def listen(self, sink: EdgeSink) -> None:
        """Call `sink` from the GPIO thread for every raw edge, with the edge's time."""
        ...

    def set_output(self, output: Output, mode: OutputMode) -> None: ...

    def pulse(self, output: Output, seconds: float) -> None:
        """A short pulse (a beep) if the output is off; nothing if it is on or absent."""
        ...

    def close(self) -> None: ...


class FillSensor(Protocol):
    """The ultrasonic fill-level sensor."""

    def read_distance_cm(self) -> float | None:
        """Distance to the paper, or None when no echo came back."""
        ...

    def close(self) -> None: ...


class ReceiptPrinter(Protocol):
    """The deposit-slip printer."""

    def status(self) -> PaperStatus:
        """The printer's answer (unknown when it gives none), bounded in time."""
        ...

    def print_slip(self, lines: SlipLines) -> None:
        """Print one slip; raises `PrinterError` (with a fault code) when it cannot."""
        ...

    def close(self) -> None: ...


class LineSource(Protocol):
    """Lines typed on the box's keypad or read by its code scanner."""

    def start(self, sink: Callable[[str], None]) -> None: ...

    def close(self) -> None: ...


class HeldEvent(NamedTuple):
    """An event the outbox could not take yet, with the id it is stored under once it can:
    fixed when the event is held, so storing it again (a stop before its slot was cleared) is
    the same event, stored once."""

    type: str
    payload: dict[str, Any]
    wall: datetime
    event_id: str


class BoxStore(Protocol):
    """The box's own durable memory: counters and the rolling raw input log."""

    def load_counters(self) -> BoxCounters | None: ...

    def save_counters(self, counters: BoxCounters) -> None: ...

    def append_inputs(self, items: Sequence[tuple[MachineInput, datetime]]) -> None: ...

    def recent_inputs(self, limit: int) -> list[tuple[str, MachineInput, str]]:
        """(boot id, input, wall time ISO) rows, oldest first."""
        ...

    def save_held(self, events: Sequence[HeldEvent]) -> None:
        """Replace the events counted while the outbox was full (may fail: disk full too)."""
        ...

    def load_held(self) -> list[HeldEvent]:
        """The events counted but not stored before the last stop, oldest first."""
        ...

    def close(self) -> None: ...
