"""The machine rig: the pure state machine driven on a hand-held clock, records schema-checked."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

from dropbox_agent.domain.machine import BoxMachine
from dropbox_agent.domain.model import (
    AuthMethod,
    Authorization,
    BoxCounters,
    CountEntered,
    Edge,
    Effect,
    FillReading,
    Input,
    MachineSettings,
    Output,
    OutputMode,
    Record,
    SetOutput,
)
from uplink import catalog

SETTINGS = MachineSettings(
    box_id="box-1",
    has_key_switch=True,
    has_printer=True,
    fill_enabled=True,
    uv_enabled=True,
    uv_cycle_s=60.0,
    uv_start_delay_s=5.0,
    heartbeat_interval_s=0.0,
)


class MachineRig:
    """Feeds a `BoxMachine` with timed inputs; keeps every effect (records schema-checked)."""

    def __init__(
        self,
        counters: BoxCounters | None = None,
        initial: dict[Input, bool] | None = None,
        **overrides: Any,
    ) -> None:
        self.settings = replace(SETTINGS, **overrides)
        self.t = 100.0
        numbers = itertools.count(1)
        self.machine = BoxMachine(
            self.settings,
            counters=counters or BoxCounters(),
            initial=initial or {},
            t0=self.t,
            code_source=lambda: f"ABCD-{next(numbers):04d}",
        )
        self.effects: list[Effect] = []
        self._take(self.machine.start())

    def _take(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, Record):
                event_type = catalog().get(effect.type)
                catalog().validate_payload(event_type, effect.payload)
        self.effects += effects

    def at(self, dt: float) -> None:
        self.t += dt
        self._take(self.machine.advance(self.t))

    def edge(self, name: Input, active: bool, dt: float = 0.0) -> None:
        self.t += dt
        self._take(self.machine.feed(Edge(self.t, name, active)))

    def set(self, name: Input, active: bool) -> None:
        """A clean change that settles (one second later)."""
        self.edge(name, active)
        self.at(1.0)

    def deposit(self, hold_s: float = 0.2) -> None:
        self.edge(Input.BEAM, True)
        self.edge(Input.BEAM, False, dt=0.001)  # chatter
        self.edge(Input.BEAM, True, dt=0.001)
        self.at(hold_s)
        self.edge(Input.BEAM, False)
        self.edge(Input.BEAM, True, dt=0.0005)
        self.edge(Input.BEAM, False, dt=0.0005)
        self.at(0.05)

    def auth(self, officer: str | None = "ofc-1", method: AuthMethod = "pin") -> None:
        self._take(self.machine.feed(Authorization(self.t, method, officer)))

    def count(self, counted: int) -> None:
        self._take(self.machine.feed(CountEntered(self.t, counted, "keypad")))

    def fill(self, distance_cm: float | None) -> None:
        self._take(self.machine.feed(FillReading(self.t, distance_cm)))

    def records(self, type_name: str | None = None) -> list[dict[str, Any]]:
        return [
            dict(e.payload)
            for e in self.effects
            if isinstance(e, Record) and (type_name is None or e.type == type_name)
        ]

    def types(self) -> list[str]:
        return [e.type for e in self.effects if isinstance(e, Record)]

    def output(self, output: Output) -> OutputMode:
        return self.machine.outputs.get(output, OutputMode.OFF)

    def set_outputs(self) -> list[SetOutput]:
        return [e for e in self.effects if isinstance(e, SetOutput)]

    def clear(self) -> None:
        self.effects = []
