"""What the keyboard simulation echoes after each command: the events recorded and the outputs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from dropbox_agent.domain.model import Output, OutputMode, Record
from uplink import Envelope


class _Machine(Protocol):
    @property
    def outputs(self) -> Mapping[Output, OutputMode]: ...


class _Agent(Protocol):
    @property
    def machine(self) -> _Machine: ...

    def add_record_listener(self, listener: Callable[[Record, Envelope], None]) -> None: ...


class _Printer(Protocol):
    @property
    def slips(self) -> Sequence[Sequence[object]]: ...


_LABELS = (
    (Output.READY_LED, "LED siap/ready"),
    (Output.FULL_LED, "penuh/full"),
    (Output.ALARM_LED, "alarm"),
    (Output.BUZZER, "buzzer"),
    (Output.UV_RELAY, "UV"),
)
SLIP_WAIT_S = 1.0  # real seconds to wait for a slip the printer thread is still printing


@dataclass(frozen=True)
class Seen:
    """How far the echo had got before a command."""

    records: int
    slips: int


class KeyboardEcho:
    """Collects what the agent records (loop thread) and tells it after each command.

    Args:
        agent: the simulated box's agent (a `DropboxAgent`).
        printer: its simulated printer (with `slips`), or None when the box has none.
    """

    def __init__(self, agent: _Agent, printer: _Printer | None) -> None:
        self._agent = agent
        self._printer = printer
        self._lock = threading.Lock()
        self._records: list[str] = []
        agent.add_record_listener(self._on_record)

    def seen(self) -> Seen:
        """Mark the start of a command."""
        with self._lock:
            return Seen(len(self._records), self._slips())

    def lines(self, before: Seen) -> list[str]:
        """The echo of one command: events recorded since `before`, slips, then every output."""
        with self._lock:
            recorded = self._records[before.records :]
        deposits = sum(1 for r in recorded if r.startswith("dropbox.deposit"))
        deadline = time.monotonic() + SLIP_WAIT_S
        while self._printer is not None and self._slips() - before.slips < deposits:
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
        out = [f"  → {r}" for r in recorded] or ["  → (tidak ada peristiwa / no event)"]
        printed = self._slips() - before.slips
        if printed:
            out.append(f"  → struk dicetak / slip printed: {printed}")
        outputs = self._agent.machine.outputs
        states = " · ".join(
            f"{label}={outputs.get(output, OutputMode.OFF)}" for output, label in _LABELS
        )
        out.append(f"  {states}")
        return out

    def _on_record(self, record: Record, _envelope: Envelope) -> None:
        detail = ""
        if "deposit_no" in record.payload:
            detail = f" #{record.payload['deposit_no']}"
        elif "active" in record.payload:
            detail = " on" if record.payload["active"] else " off"
        with self._lock:
            self._records.append(f"{record.type}{detail}")

    def _slips(self) -> int:
        return 0 if self._printer is None else len(self._printer.slips)
