"""One simulated device in a process of its own, so a fault test can SIGKILL it and restart it.

    python -m branchsim.device kiosk CONFIG.toml --start ISO --speed 60 [--script DAY.json]
    python -m branchsim.device dropbox CONFIG.toml --scenario FILE --start ISO --speed 60

The device runs on a `SimulatedClock` from `--start` until SIGTERM or SIGINT (a restart after a
kill passes the simulation's current instant, so its time goes on where the branch's is). A kiosk
given `--script` (`branchsim.script.write_script`'s file) also plays the day's scripted visits
and its printer's paper out and refill; the office's happenings are the branch's to play.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from branchsim.branch import DAY_LENGTH, DEVICE_DRAIN_S, kiosk_home, parse_start
from branchsim.script import PRINTER_ACTS, DayScript, ScriptPlayer, read_script
from configkit import load
from configkit.cli import stop_on_signals
from uplink import SimulatedClock

if TYPE_CHECKING:
    from kiosk.sim.runner import SimulatedKiosk

logger = logging.getLogger(__name__)

SCRIPT_TICK_S = 0.1  # real seconds between looks at the script's printer happenings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m branchsim.device")
    parser.add_argument("kind", choices=["kiosk", "dropbox"])
    parser.add_argument("config", type=Path)
    parser.add_argument("--start", type=parse_start, required=True, metavar="ISO-8601-INSTANT")
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--scenario", type=Path, help="dropbox: the scenario to play")
    parser.add_argument("--log", type=Path, help="append log lines to this file")
    parser.add_argument(
        "--arrival-s", type=float, default=20.0, help="kiosk: mean time between arrivals"
    )
    parser.add_argument(
        "--walkin-every", type=int, default=4, help="kiosk: every n-th is a walk-in"
    )
    parser.add_argument(
        "--script", type=Path, help="kiosk: the day's script to play (visits, paper out)"
    )
    parser.add_argument(
        "--span-s",
        type=float,
        default=DAY_LENGTH.total_seconds(),
        help="kiosk: the simulated seconds the script is spread over (a whole day)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        filename=args.log,
        level=logging.INFO,
        format=f"%(asctime)s {args.kind} %(levelname)s %(name)s: %(message)s",
    )
    # The tools' own stop: an Event.set() inside a signal handler can deadlock the process.
    with stop_on_signals() as stop:
        _run(parser, args, stop)
    return 0


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace, stop: threading.Event) -> None:
    clock = SimulatedClock(args.start, args.speed)
    if args.kind == "kiosk":
        from kiosk.config import KioskConfig
        from kiosk.sim.runner import run_simulated as run_kiosk

        kiosk = load(KioskConfig, args.config)
        home = kiosk_home(kiosk)
        built = None
        if args.script is not None:
            built = _play_script(read_script(args.script), clock, stop, args.span_s)
        run_kiosk(
            kiosk, home / "camera", home / "tickets", clock=clock, stop=stop,
            arrival_s=args.arrival_s, walkin_every=args.walkin_every, on_built=built,
        )  # fmt: skip
    else:
        from dropbox_agent.config import DropboxConfig
        from dropbox_agent.sim.runner import run_simulated as run_dropbox

        if args.scenario is None:
            parser.error("dropbox needs --scenario")
        box = load(DropboxConfig, args.config)
        run_dropbox(
            box, args.scenario, speed=args.speed, stop=stop, clock=clock, serve_after=True,
            drain_s=DEVICE_DRAIN_S,
        )  # fmt: skip


def _play_script(
    script: DayScript, clock: SimulatedClock, stop: threading.Event, span_s: float
) -> Callable[[SimulatedKiosk], None]:
    """The kiosk's `on_built`: its participants expect the script's visits, and a thread plays
    its printer's happenings on the simulation's clock until `stop`."""
    player = ScriptPlayer(script.happenings, timedelta(seconds=span_s), PRINTER_ACTS)

    def play(parts: SimulatedKiosk) -> None:
        while not stop.wait(SCRIPT_TICK_S):
            for act in player.due(clock.now(), parts):
                logger.info("scripted: %s", act)
                parts.printer.paper_left = 0 if act == "paper_out" else None

    def built(parts: SimulatedKiosk) -> None:
        parts.participants.expect(script.visits)
        threading.Thread(target=play, args=(parts,), name="script", daemon=True).start()

    return built


if __name__ == "__main__":
    sys.exit(main())
