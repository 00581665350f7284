"""The box's GPIO on gpiozero's MockFactory: the real adapter, plus hands that drive its inputs."""

from __future__ import annotations

import logging
import random
from datetime import datetime
from typing import Any

from dropbox_agent.adapters.gpio import GpioBox
from dropbox_agent.config import PinsConfig, PolarityConfig
from dropbox_agent.domain.model import Input, Output
from uplink.clock import Clock

logger = logging.getLogger(__name__)


class SimulatedBox(GpioBox):
    """`GpioBox` on a `MockFactory`, with methods to move the sensors as a person would.

    Inputs start at their inactive level (beam clear, door closed, no tamper, key off). Edges
    are dated by `clock` when they are driven, as the real adapter dates them.

    Fault injection: `stick(input, active)` holds an input at a level (a stuck or cut sensor)
    until `unstick(input)`.

    Args:
        pins: which GPIO does what.
        polarity: which level means active.
        clock: dates the edges.
        factory: a `MockFactory` to share (a fresh one by default).
    """

    def __init__(
        self,
        pins: PinsConfig,
        polarity: PolarityConfig,
        clock: Clock,
        *,
        factory: Any = None,
    ) -> None:
        if factory is None:
            from gpiozero.pins.mock import MockFactory

            factory = MockFactory()
        self.factory = factory
        self._edge_clock = _EdgeClock(clock)
        super().__init__(
            pins, polarity, self._edge_clock, pin_factory=factory, correct_edge_age=False
        )
        self._pin_of: dict[Input, int] = {
            Input.BEAM: pins.beam,
            Input.DOOR: pins.door,
            Input.TAMPER: pins.tamper,
        }
        if pins.key_switch is not None:
            self._pin_of[Input.KEY] = pins.key_switch
        self._active_high = {
            Input.BEAM: polarity.beam_blocked_level == "high",
            Input.DOOR: polarity.door_open_level == "high",
            Input.TAMPER: polarity.tamper_active_level == "high",
            Input.KEY: polarity.key_on_level == "high",
        }
        self._out_pin: dict[Output, tuple[int, bool]] = {}
        for output, pin, active_high in (
            (Output.READY_LED, pins.ready_led, True),
            (Output.FULL_LED, pins.full_led, True),
            (Output.ALARM_LED, pins.alarm_led, True),
            (Output.BUZZER, pins.buzzer, True),
            (Output.UV_RELAY, pins.uv_relay, polarity.uv_relay_active_high),
        ):
            if pin is not None:
                self._out_pin[output] = (pin, active_high)
        self._stuck: set[Input] = set()
        for name in self._pin_of:
            self._set_level(name, False)  # pull-ups read high: move each input to "inactive"

    def drive(self, name: Input, active: bool) -> None:
        """Set one input's level as the sensor would (one clean edge, if it changes)."""
        if name in self._stuck:
            return
        self._set_level(name, active)

    def chatter(
        self, name: Input, active: bool, rng: random.Random, *, bounces: int | None = None
    ) -> None:
        """Move one input to `active` through a train of contact bounces (ends at `active`).

        The bounces happen back to back, and all their edges are dated at one instant: well
        inside any debounce time, even when a busy machine parts two edges by milliseconds
        (times a simulation's speed, that was past the beam's debounce: a phantom deposit).
        Randomized timing is proven on the pure debouncer with a manual clock.
        """
        count = rng.randint(0, 6) if bounces is None else bounces
        self._edge_clock.held = self._edge_clock.monotonic()
        try:
            for _ in range(count):
                self.drive(name, active)
                self.drive(name, not active)
            self.drive(name, active)
        finally:
            self._edge_clock.held = None

    def is_active(self, name: Input) -> bool:
        """The input's current level, as meaning (True = blocked / open / tampered / on)."""
        pin = self.factory.pin(self._pin_of[name])
        return bool(pin.state) == self._active_high[name]

    def output_on(self, output: Output) -> bool:
        """Whether an output is energized right now (False when it is not fitted)."""
        if output not in self._out_pin:
            return False
        pin, active_high = self._out_pin[output]
        return bool(self.factory.pin(pin).state) == active_high

    def stick(self, name: Input, active: bool) -> None:
        """Hold an input at a level; later drives are ignored (a stuck or cut sensor)."""
        self._stuck.discard(name)
        self._set_level(name, active)
        self._stuck.add(name)
        logger.info("simulated %s input stuck %s", name, "active" if active else "inactive")

    def unstick(self, name: Input) -> None:
        self._stuck.discard(name)

    def _set_level(self, name: Input, active: bool) -> None:
        pin = self.factory.pin(self._pin_of[name])
        if active == self._active_high[name]:
            pin.drive_high()
        else:
            pin.drive_low()


class _EdgeClock:
    """The clock that dates the box's edges: `clock`, or one instant while `held` is set."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.held: float | None = None

    def monotonic(self) -> float:
        held = self.held
        return self._clock.monotonic() if held is None else held

    def now(self) -> datetime:
        return self._clock.now()

    def synced(self) -> bool:
        return self._clock.synced()
