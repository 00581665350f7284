"""Scenario files (timed sensor actions) and the keyboard commands of the interactive simulator.

A scenario is a TOML file::

    description = "A short branch day"
    end_after_s = 3          # keep running this long after the last step (seconds)
    seed = 7                 # chatter randomness (optional)

    [[steps]]
    at_s = 2                 # seconds from the start (scaled by --speed)
    action = "deposit"       # one envelope through the slot, with contact chatter
    count = 3                # optional: several, `every_s` apart
    every_s = 4

Actions: deposit (count, every_s, hold_ms, chatter), jam (hold_s), door (open), tamper
(active), key (on), keypad (text: a PIN, "*12#" a count, a badge or booking code), fill
(distance_cm, or no_echo = true), printer (fault: "none", "paper_out", "offline").
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from configkit import ConfigError, ConfigModel, load
from dropbox_agent.domain.model import Input
from dropbox_agent.errors import ScenarioError
from dropbox_agent.sim.box import SimulatedBox
from dropbox_agent.sim.devices import SimulatedFillSensor, SimulatedKeypad, SimulatedPrinter

logger = logging.getLogger(__name__)


class _Step(ConfigModel):
    at_s: float = Field(0.0, ge=0, description="When, in seconds from the start (scaled).")


class DepositStep(_Step):
    """Envelopes through the slot."""

    action: Literal["deposit"] = Field(description="One or more deposits.")
    count: int = Field(1, ge=1, le=100_000, description="How many deposits.")
    every_s: float = Field(1.0, gt=0, description="Time between deposits, seconds.")
    hold_ms: float = Field(150.0, gt=0, description="How long each envelope blocks the beam, ms.")
    chatter: bool = Field(True, description="Bounce the beam signal on each edge.")


class JamStep(_Step):
    """Something stuck in the slot."""

    action: Literal["jam"] = Field(description="Block the beam for a long time.")
    hold_s: float = Field(12.0, gt=0, description="How long the beam stays blocked, seconds.")


class DoorStep(_Step):
    action: Literal["door"] = Field(description="Open or close the collection door.")
    open: bool = Field(description="True opens, false closes.")


class TamperStep(_Step):
    action: Literal["tamper"] = Field(description="Trip or restore the tamper switch.")
    active: bool = Field(description="True trips the switch.")


class KeyStep(_Step):
    action: Literal["key"] = Field(description="Turn the officer key switch.")
    on: bool = Field(description="True turns it on.")


class KeypadStep(_Step):
    action: Literal["keypad"] = Field(description="Type a line on the keypad (or scan it).")
    text: str = Field(
        min_length=1, max_length=200, description="A PIN, '*12#' (a count), badge or booking."
    )


class FillStep(_Step):
    action: Literal["fill"] = Field(description="Set the fill sensor's reading, then read it.")
    distance_cm: float = Field(55.0, ge=0, description="Sensor to paper distance, cm.")
    no_echo: bool = Field(False, description="The sensor returns no echo instead.")


class PrinterStep(_Step):
    action: Literal["printer"] = Field(description="Break or mend the receipt printer.")
    fault: Literal["none", "paper_out", "offline"] = Field(description="The printer's fault.")


Step = Annotated[
    DepositStep | JamStep | DoorStep | TamperStep | KeyStep | KeypadStep | FillStep | PrinterStep,
    Field(discriminator="action"),
]


class Scenario(ConfigModel):
    """A timed list of sensor actions."""

    description: str = Field("", description="What the scenario shows.")
    end_after_s: float = Field(3.0, ge=0, description="Run this long after the last step, s.")
    seed: int | None = Field(None, description="Seed for the chatter (random when unset).")
    steps: list[Step] = Field(default_factory=list, description="The actions, in any order.")

    def duration_s(self) -> float:
        """Scaled seconds from the start to the end of the scenario."""
        last = 0.0
        for step in self.steps:
            end = step.at_s
            if isinstance(step, DepositStep):
                end += (step.count - 1) * step.every_s + step.hold_ms / 1000
            elif isinstance(step, JamStep):
                end += step.hold_s
            last = max(last, end)
        return last + self.end_after_s


def load_scenario(path: Path) -> Scenario:
    """Read and check a scenario file.

    Raises:
        ScenarioError: the file is missing or not valid (one line per problem).
    """
    try:
        return load(Scenario, path)
    except ConfigError as exc:
        raise ScenarioError(str(exc)) from None


BEAM_CLEAR_S = 0.5
"""Simulated seconds the beam stays clear at least between two envelopes."""


@dataclass
class Hands:
    """What a scenario (or a person at the keyboard) can touch on a simulated box.

    Args:
        box: the MockFactory pins.
        keypad: the keypad / scanner.
        fill: the fill sensor (None when not fitted).
        printer: the printer (None when not fitted).
        request_fill_reading: asks the agent to read the fill sensor now.
        speed: simulated seconds per real second.
        rng: for contact chatter.
    """

    box: SimulatedBox
    keypad: SimulatedKeypad
    fill: SimulatedFillSensor | None
    printer: SimulatedPrinter | None
    request_fill_reading: Callable[[], None]
    speed: float
    rng: random.Random
    _cleared_at: float | None = field(default=None, init=False)  # real time the beam cleared

    def deposit(self, step: DepositStep, stop: threading.Event) -> None:
        for n in range(step.count):
            if n and stop.wait(step.every_s / self.speed):
                return
            self._envelope(step.hold_ms / 1000, step.chatter, stop)

    def _envelope(self, hold_s: float, chatter: bool, stop: threading.Event) -> None:
        # A scenario behind its schedule (a busy machine) drives its steps back to back: the
        # next envelope's edge came 5 ms after the last one cleared and the two were one deposit.
        # Nobody puts two envelopes in that fast; the beam stays clear a while in between.
        if self._cleared_at is not None:
            left = self._cleared_at + BEAM_CLEAR_S / self.speed - time.monotonic()
            if left > 0:
                stop.wait(left)  # a stop cuts the wait short; the envelope still goes in
        if chatter:
            self.box.chatter(Input.BEAM, True, self.rng)
        else:
            self.box.drive(Input.BEAM, True)
        stop.wait(hold_s / self.speed)  # finish the deposit even when stopping
        if chatter:
            self.box.chatter(Input.BEAM, False, self.rng)
        else:
            self.box.drive(Input.BEAM, False)
        self._cleared_at = time.monotonic()

    def perform(self, step: Step, stop: threading.Event) -> None:
        """Carry out one step (deposits and jams take their time)."""
        if isinstance(step, DepositStep):
            self.deposit(step, stop)
        elif isinstance(step, JamStep):
            self._envelope(step.hold_s, False, stop)
        elif isinstance(step, DoorStep):
            self.box.chatter(Input.DOOR, step.open, self.rng)
        elif isinstance(step, TamperStep):
            self.box.chatter(Input.TAMPER, step.active, self.rng)
        elif isinstance(step, KeyStep):
            self.box.drive(Input.KEY, step.on)
        elif isinstance(step, KeypadStep):
            self.keypad.type_line(step.text)
        elif isinstance(step, FillStep):
            if self.fill is None:
                logger.warning("scenario sets the fill level but no fill sensor is configured")
                return
            self.fill.set_distance(None if step.no_echo else step.distance_cm)
            self.request_fill_reading()
        elif self.printer is None:
            logger.warning("scenario breaks the printer but no printer is configured")
        else:
            self.printer.fail(None if step.fault == "none" else step.fault)


def run_scenario(
    scenario: Scenario, hands: Hands, stop: threading.Event, *, speed: float = 1.0
) -> bool:
    """Perform the steps at their times; returns True when it ran to the end (not stopped)."""
    start = time.monotonic()
    for step in sorted(scenario.steps, key=lambda s: s.at_s):
        delay = start + step.at_s / speed - time.monotonic()
        if delay > 0 and stop.wait(delay):
            return False
        if stop.is_set():
            return False
        logger.info("scenario: %s at %.1f s", step.action, step.at_s)
        hands.perform(step, stop)
    remaining = start + scenario.duration_s() / speed - time.monotonic()
    return not (remaining > 0 and stop.wait(remaining)) and not stop.is_set()


# -- interactive keyboard mode --------------------------------------------------------------------

HELP = """\
Perintah / commands:
  d [N]          titipan / deposit (N envelopes)
  j [S]          slot macet / jam for S seconds (default 12)
  o | c          buka / tutup pintu koleksi (open / close the door)
  t | t off      sabotase / tamper on, off
  k | k off      kunci petugas / key switch on, off
  p TEXT         ketik di keypad / type on the keypad (PIN, *12# count, badge, booking)
  f CM | f none  tingkat isi / fill sensor distance (none: no echo)
  printer FAULT  none | paper_out | offline
  s              status
  q              keluar / quit
"""


def parse_command(line: str) -> Step | Literal["status", "quit", "help"] | None:
    """One keyboard line as a step (or a control word); None for an empty line.

    Raises:
        ScenarioError: an unknown command or a bad argument (the message shows the help).
    """
    words = line.split()
    if not words:
        return None
    cmd, args = words[0].lower(), words[1:]
    try:
        if cmd in ("q", "quit", "exit"):
            return "quit"
        if cmd in ("s", "status"):
            return "status"
        if cmd in ("?", "h", "help"):
            return "help"
        if cmd == "d":
            return DepositStep(action="deposit", count=int(args[0]) if args else 1, every_s=0.5)
        if cmd == "j":
            return JamStep(action="jam", hold_s=float(args[0]) if args else 12.0)
        if cmd in ("o", "c"):
            return DoorStep(action="door", open=cmd == "o")
        if cmd == "t":
            return TamperStep(action="tamper", active=args != ["off"])
        if cmd == "k":
            return KeyStep(action="key", on=args != ["off"])
        if cmd == "p" and args:
            return KeypadStep(action="keypad", text=" ".join(args))
        if cmd == "f" and args:
            if args[0] == "none":
                return FillStep(action="fill", no_echo=True)
            return FillStep(action="fill", distance_cm=float(args[0]))
        if cmd == "printer" and args:
            return PrinterStep.model_validate({"action": "printer", "fault": args[0]})
    except (ValueError, IndexError):
        pass
    raise ScenarioError(f"not understood: {line.strip()!r}\n{HELP}")
