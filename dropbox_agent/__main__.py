"""`dropbox-agent`: run the box on real pins, simulate it, check its config, hash a secret.

Exit codes: 0 ok, 1 failure (hardware missing, runtime error), 2 bad configuration or usage,
130 interrupted (Ctrl-C during a one-shot command; a running box stops cleanly and exits 0).
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from configkit import check_command, check_files, cli, layout, load
from configkit.helptext import teach
from dropbox_agent.config import DropboxConfig
from dropbox_agent.errors import DropboxError, HardwareUnavailable, ScenarioError
from receipts import PrinterError

logger = logging.getLogger("dropbox_agent")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = cli.EXIT_OK, cli.EXIT_FAILED, cli.EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    parser = cli.new_parser("dropbox-agent", __doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the box on its real GPIO pins")
    run.add_argument(
        "--config",
        type=Path,
        default=layout.config_file("dropbox"),
        help="dropbox TOML file (default %(default)s)",
    )
    run.set_defaults(func=_run)

    sim = sub.add_parser(
        "simulate",
        help="run the box on simulated pins (MockFactory): a scenario file, or the keyboard",
    )
    sim.add_argument(
        "--config",
        type=Path,
        help=f"dropbox TOML file (default {layout.config_file('dropbox')}; with none there, a "
        "throwaway box, broker and back office in a temporary folder)",
    )
    sim.add_argument(
        "--scenario",
        type=Path,
        help="scenario TOML (timed sensor actions); without it, type commands on the keyboard",
    )
    sim.add_argument("--speed", type=float, default=1.0, help="time factor (default 1)")
    sim.add_argument(
        "--slips", type=Path, help="write printed slips to this folder (slip-NNNN.png)"
    )
    sim.set_defaults(func=_simulate)

    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate a dropbox TOML file")
    check.add_argument("file", type=Path, help="the dropbox TOML file to check")
    check.set_defaults(func=lambda args: check_command(DropboxConfig, args.file))

    replay = sub.add_parser(
        "replay", help="re-derive events from the box's raw input log (disputes)"
    )
    replay.add_argument(
        "--config",
        type=Path,
        default=layout.config_file("dropbox"),
        help="dropbox TOML file (default %(default)s)",
    )
    replay.add_argument("--boot", help="boot id to replay (default: the newest in the log)")
    replay.add_argument("--raw", action="store_true", help="also print every logged input")
    replay.set_defaults(func=_replay)

    secret = sub.add_parser(
        "hash-secret", help="hash an officer PIN or badge code for [[collection.officers]]"
    )
    secret.add_argument(
        "--stdin", action="store_true", help="read the secret from standard input (scripts)"
    )
    secret.set_defaults(func=_hash_secret)
    return parser


def _run(args: argparse.Namespace) -> int:
    from dropbox_agent import app
    from dropbox_agent.adapters import gpio

    config = load(DropboxConfig, args.config)
    usable, why = gpio.is_usable()
    if not usable:
        raise HardwareUnavailable(why)
    for warning in check_files(config, str(args.config)):
        print(warning, file=sys.stderr)
    with cli.stop_on_signals() as stop:
        app.run(config, stop)
    return EXIT_OK


def _simulate(args: argparse.Namespace) -> int:
    from dropbox_agent.sim.runner import run_interactive, run_simulated

    # nan, inf or 1e308 reached the clock as an OverflowError ("unexpected error").
    if not (math.isfinite(args.speed) and 0 < args.speed <= cli.MAX_SPEED):
        raise ScenarioError(
            f"--speed {args.speed}: give a factor above 0 and at most {cli.MAX_SPEED:g},"
            " e.g. 1 or 10"
        )
    if args.config is None and not layout.config_file("dropbox").exists():
        return _simulate_throwaway(args)
    config = load(DropboxConfig, args.config or layout.config_file("dropbox"))
    with cli.stop_on_signals() as stop:
        if args.scenario is not None:
            run_simulated(config, args.scenario, speed=args.speed, stop=stop, slips_dir=args.slips)
        else:
            run_interactive(config, speed=args.speed, stop=stop, slips_dir=args.slips)
    return EXIT_OK


def _simulate_throwaway(args: argparse.Namespace) -> int:
    """`simulate` with no config anywhere: the shipped example config, talking to a throwaway
    broker and back office in a temporary folder (from the `lapak.sandbox` entry point)."""
    from importlib.metadata import entry_points

    from dropbox_agent.sim.runner import run_interactive, run_simulated
    from uplink import UplinkConfig

    found = entry_points(group="lapak.sandbox")
    if not found:
        print(
            f"dropbox-agent simulate: no {layout.config_file('dropbox')} here; give --config "
            "FILE (e.g. dropbox_agent/examples/dropbox.toml), or install the whole project "
            "(scripts/setup.sh) for a throwaway broker and back office",
            file=sys.stderr,
        )
        return EXIT_USAGE
    example = load(DropboxConfig, Path(__file__).parent / "examples" / "dropbox.toml")
    with next(iter(found)).load()() as sandbox:
        home = Path(sandbox.directory) / example.uplink.device_id
        home.mkdir(parents=True)
        uplink = UplinkConfig(
            device_id=example.uplink.device_id,
            broker=sandbox.client_config(example.uplink.device_id),
            outbox_path=home / "outbox.db",
        )
        config = example.model_copy(update={"uplink": uplink, "local_db_path": home / "box.db"})
        print(f"a throwaway box (example config), broker and back office in {sandbox.directory}")
        with cli.stop_on_signals() as stop:
            if args.scenario is not None:
                run_simulated(
                    config, args.scenario, speed=args.speed, stop=stop, slips_dir=args.slips
                )
            else:
                run_interactive(config, speed=args.speed, stop=stop, slips_dir=args.slips)
        print(f"the back office stored {sandbox.stored()} events")
    return EXIT_OK


def _replay(args: argparse.Namespace) -> int:
    from dropbox_agent.adapters.box_store import SqliteBoxStore
    from dropbox_agent.replay import replay

    config = load(DropboxConfig, args.config)
    if not config.local_db_path.exists():
        print(f"{config.local_db_path}: no raw input log there yet", file=sys.stderr)
        return EXIT_FAILURE
    store = SqliteBoxStore(config.local_db_path, boot_id="replay")
    try:
        boot, inputs, events = replay(store, config.machine_settings())
    except ValueError as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        store.close()
    print(f"boot {boot}: {len(inputs)} inputs, {len(events)} events")
    if args.raw:
        for wall, item in inputs:
            print(f"  {wall}  in   {item}")
    for event in events:
        details = " ".join(f"{k}={v}" for k, v in event.payload.items() if k != "box_id")
        print(f"  {event.wall}  out  {event.type} {details}")
    return EXIT_OK


def _hash_secret(args: argparse.Namespace) -> int:
    from configkit.hashed import ask_secret, hash_secret

    secret = ask_secret(from_stdin=args.stdin, prompt="PIN / kode badge: ")
    if secret is None:
        return EXIT_USAGE
    print(hash_secret(secret))
    return EXIT_OK


# One example per command, shown under its --help (configkit.helptext).
EXAMPLES = {
    "run": "dropbox-agent run --config /etc/lapak/dropbox.toml",
    # Runs as it stands on a laptop: a throwaway broker and back office (the example config
    # would need the device's certificates in /etc/lapak/pki).
    "simulate": "dropbox-agent simulate --scenario dropbox_agent/sim/scenarios/branch-day.toml "
    "--speed 60",
    "config check": "dropbox-agent config check dropbox_agent/examples/dropbox.toml",
    "replay": "dropbox-agent replay --config /etc/lapak/dropbox.toml --raw",
    "hash-secret": "dropbox-agent hash-secret --stdin < pin.txt",
}


# A bad scenario is a usage error; a box that cannot run here (no GPIO, a store it cannot open)
# is one line and exit 1.
FAILURES = (
    cli.Failure(ScenarioError, EXIT_USAGE, "scenario: {error}"),
    cli.Failure((HardwareUnavailable, DropboxError, PrinterError), EXIT_FAILURE, "{tool}: {error}"),
)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `dropbox-agent` console script."""
    parser = _parser()
    teach(parser, EXAMPLES)
    return cli.run(parser, argv, failures=FAILURES, log_level=lambda _args: logging.INFO)


if __name__ == "__main__":
    sys.exit(main())
