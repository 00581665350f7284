"""Simulated dropboxes: one driven by a scenario file (`run_simulated`, also the branch
simulation's box) and one driven from the keyboard (`run_interactive`)."""

from __future__ import annotations

import logging
import random
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from dropbox_agent.agent import DropboxAgent, when_set
from dropbox_agent.app import build
from dropbox_agent.config import DropboxConfig
from dropbox_agent.devices import build_simulated_devices
from dropbox_agent.errors import ScenarioError
from dropbox_agent.sim.echo import KeyboardEcho
from dropbox_agent.sim.scenario import HELP, Hands, load_scenario, parse_command, run_scenario
from uplink import SimulatedClock

logger = logging.getLogger(__name__)

SETTLE_S = 5.0  # real seconds at most a simulation keeps pumping after its end


class SimulatedBoxKit:
    """A simulated box wired to a real uplink: the agent plus the hands that drive it."""

    def __init__(
        self,
        config: DropboxConfig,
        *,
        speed: float = 1.0,
        slips_dir: Path | None = None,
        seed: int | None = None,
        clock: SimulatedClock | None = None,
    ) -> None:
        # The simulation's one clock (a whole branch shares it); alone, the box starts now.
        if clock is None:
            clock = SimulatedClock(datetime.now(UTC), speed)
        self.clock = clock
        # The config says what the box runs on (its start-up line names the printer).
        printer_config = config.printer.model_copy(update={"transport": "simulated"})
        config = config.model_copy(update={"printer": printer_config})
        devices = build_simulated_devices(config, clock, slips_dir=slips_dir)
        box, keypad, fill, printer = devices.box, devices.keypad, devices.fill, devices.printer
        self.agent = build(
            config,
            clock=clock,
            box=box,
            fill=fill,
            printer=printer,
            keypad=keypad,
            uplink_clock=clock.with_real_timers(),
        )
        self.hands = Hands(
            box=box,
            keypad=keypad,
            fill=fill,
            printer=printer,
            request_fill_reading=self.agent.request_fill_reading,
            speed=clock.speed,
            rng=random.Random(seed),  # noqa: S311 - contact chatter, not security
        )


def run_simulated(
    config: DropboxConfig,
    scenario: Path,
    *,
    speed: float,
    stop: threading.Event,
    slips_dir: Path | None = None,
    drain_s: float = 5.0,
    clock: SimulatedClock | None = None,
    serve_after: bool = False,
) -> None:
    """Run one simulated dropbox through a scenario, against the real uplink.

    Contract (used by the whole-branch simulation):
      - Real parts: the `Uplink` from `config.uplink` (events reach the back office through the
        broker it names; the outbox at `config.uplink.outbox_path`), the box store (counters and
        raw log) at `config.local_db_path`, the state machine and the gpiozero adapter.
      - Simulated: the pins (gpiozero `MockFactory`), keypad, fill sensor and printer (slips are
        rendered to `slips_dir` as PNGs when given and the config enables the printer). The
        scenario file (see `dropbox_agent.sim.scenario`) moves the sensors at its times; timers
        (debounce, jam limit, UV-C cycle) and the scenario run `speed` times faster.
      - The retained state message (`publish_state`) carries "summary" (pending count, door,
        fill) and "alerts" (short Bahasa Indonesia / English strings), updated at most every
        0.5 s and on close, so `backoffice watch` shows the box.
      - Time: `clock` (the simulated branch's one clock; its speed replaces `speed`), or a
        simulated clock starting at the machine's time. Events carry its time; the uplink's
        timeouts run in real time.
      - Returns when the scenario has ended (after its `end_after_s`) or when `stop` is set,
        after waiting up to `drain_s` for the outbox to drain; with `serve_after`, a box whose
        scenario has ended keeps serving (connected, heartbeats, commands) until `stop`, as a
        real box does after a quiet day; undelivered events stay in the
        outbox for the next start. The counters persist: a second run continues the numbering.

    Raises:
        ScenarioError: the scenario file is not valid (raised before anything starts).
        SetupError: the uplink's certificates or outbox, or the local database, cannot be
            opened (raised before anything starts). The pins never fail: they are mocks.
    """
    plan = load_scenario(scenario)
    kit = SimulatedBoxKit(config, speed=speed, slips_dir=slips_dir, seed=plan.seed, clock=clock)
    speed = kit.clock.speed
    halt = threading.Event()

    def drive() -> None:
        try:
            finished = run_scenario(plan, kit.hands, halt, speed=speed)
            logger.info("scenario %s %s", scenario.name, "ended" if finished else "stopped")
        except Exception:  # thread boundary: end the run rather than hang
            logger.exception("scenario %s failed", scenario.name)
            halt.set()
        if not serve_after:
            halt.set()

    when_set(stop, halt.set)
    kit.agent.start()
    driver = threading.Thread(target=drive, name="dropbox-scenario", daemon=True)
    driver.start()
    logger.info("simulated dropbox %s running %s (speed %.1fx)", config.box_id, scenario, speed)
    loop_then_close(kit.agent, halt, drain_s)
    driver.join(5.0)


def run_interactive(
    config: DropboxConfig,
    *,
    speed: float = 1.0,
    stop: threading.Event,
    commands: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
    slips_dir: Path | None = None,
) -> None:
    """A simulated dropbox driven from the keyboard (`dropbox-agent simulate` without a file).

    One command per line (type `?` for the list); ends on `q`, end of input, or `stop`.
    """
    kit = SimulatedBoxKit(config, speed=speed, slips_dir=slips_dir)
    echo = KeyboardEcho(kit.agent, kit.hands.printer)
    kit.agent.start()
    halt = threading.Event()
    loop = threading.Thread(
        target=loop_then_close, args=(kit.agent, halt, 5.0), name="dropbox-loop", daemon=True
    )
    loop.start()
    out.write(HELP)
    out.flush()
    try:
        for line in commands:
            if stop.is_set():
                break
            try:
                command = parse_command(line)
            except ScenarioError as exc:
                out.write(f"{exc}\n")
                out.flush()
                continue
            if command == "quit":
                break
            if command == "help":
                out.write(HELP)
            elif command == "status":
                state = kit.agent.latest_state
                out.write(state["summary"] + "\n")
                for alert in state["alerts"]:
                    out.write(f"  ! {alert}\n")
            elif command is not None:
                # Echo what the box did: the events it recorded and its outputs (LEDs, buzzer,
                # UV, slips), so every key has visible feedback.
                before = echo.seen()
                kit.hands.perform(command, stop)
                kit.agent.wait_idle(5.0)
                out.write("\n".join(echo.lines(before)) + "\n")
            out.flush()
    finally:
        halt.set()
        loop.join(15.0)


def loop_then_close(agent: DropboxAgent, halt: threading.Event, drain_s: float) -> None:
    """`agent.run`'s loop, closing with a drain wait (the simulations' ending)."""
    when_set(halt, agent.wake)
    try:
        while not halt.is_set():
            try:
                agent.pump(agent.wait_s())
            except Exception:  # loop boundary, as in the real agent
                logger.exception("simulated dropbox loop pass failed")
                halt.wait(0.1)
        # Let a deposit whose last edge came just before the end settle and be recorded: until
        # nothing is queued or settling (a fixed 0.1 s lost the scenario's last deposit on a
        # busy machine), bounded should an input never settle (a beam held at the end).
        settle_until = time.monotonic() + SETTLE_S
        while not agent.idle and (left := settle_until - time.monotonic()) > 0:
            agent.pump(min(left, agent.wait_s() or left))
    finally:
        agent.close(drain_s=drain_s)
