"""One simulated device in a process of its own, so a fault test can SIGKILL it and restart it.

    python -m branchsim.device kiosk CONFIG.toml --start ISO --speed 60
    python -m branchsim.device dropbox CONFIG.toml --scenario FILE --start ISO --speed 60

The device runs on a `SimulatedClock` from `--start` until SIGTERM or SIGINT (a restart after a
kill passes the simulation's current instant, so its time goes on where the branch's is).
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path

from branchsim.branch import DEVICE_DRAIN_S, kiosk_home, parse_start
from configkit import load
from configkit.cli import stop_on_signals
from uplink import SimulatedClock

logger = logging.getLogger(__name__)


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
        run_kiosk(
            kiosk, home / "camera", home / "tickets", clock=clock, stop=stop,
            arrival_s=args.arrival_s, walkin_every=args.walkin_every,
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


if __name__ == "__main__":
    sys.exit(main())
