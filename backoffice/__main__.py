"""`backoffice`: the reference back office (event receiver, live watch, config check).

Exit codes: 0 ok, 1 failure, 2 bad configuration or usage, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from backoffice import dropbox_count, occupancy, watch
from backoffice.bookings import cli as booking_cli
from backoffice.bookings.config import BookingsConfig
from backoffice.config import BackofficeConfig
from backoffice.errors import BackofficeError
from backoffice.receiver import Receiver
from backoffice.stores import DatabaseError, open_store
from configkit import ConfigError, check_command, check_files, cli, layout, load, read_toml
from configkit.helptext import teach
from uplink import systemd
from uplink.errors import StorageError

logger = logging.getLogger(__name__)

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def _register_builtin(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    receive = sub.add_parser("receive", help="store device events and acknowledge them")
    receive.add_argument(
        "--config",
        default=str(layout.config_file("backoffice")),
        help="back-office TOML file (default %(default)s)",
    )
    receive.set_defaults(func=_receive)

    watcher = sub.add_parser("watch", help="live view of devices and arriving events")
    source = watcher.add_mutually_exclusive_group()
    source.add_argument(
        "--config",
        default=str(layout.config_file("backoffice")),
        help="back-office TOML file; its database_path is watched (default %(default)s)",
    )
    source.add_argument("--db", help="the event store's SQLite file")
    watcher.add_argument("--once", action="store_true", help="print one snapshot and exit")
    watcher.add_argument(
        "--timezone",
        help="IANA zone to show times in (default: the config's timezone, else Asia/Jakarta)",
    )
    watcher.set_defaults(func=watch.run)

    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser(
        "check",
        help="validate the back office's files (backoffice.toml and booking.toml)",
        description="Validate each FILE whole, with the model its content names: a file with "
        "keys_dir is the booking back office's (booking.toml), any other the receiver's "
        "(backoffice.toml). Examples: backoffice/examples/. Exit code 2 when any is invalid.",
        epilog="example: backoffice config check  (checks both files in /etc/lapak)",
    )
    check.add_argument(
        "file",
        nargs="*",
        default=[str(layout.config_file("backoffice")), str(layout.config_file("booking"))],
        help="TOML files (default: %(default)s)",
    )
    check.set_defaults(func=_config_check)


# Other capabilities add their subcommands here (each module has `register(subparsers)`).
COMMANDS: list[Register] = [
    _register_builtin,
    booking_cli.register,
    occupancy.register,
    dropbox_count.register,
]


def _config_check(args: argparse.Namespace) -> int:
    """`config check`: each file against the model its content names (one command, two files)."""
    worst = 0
    for path in args.file:
        worst = max(worst, check_command(_model_of(Path(path)), path))
    return worst


def _model_of(path: Path) -> type[BackofficeConfig] | type[BookingsConfig]:
    try:
        data = read_toml(path)
    except ConfigError:
        return BackofficeConfig  # check_command reports the unreadable file in one line
    return BookingsConfig if "keys_dir" in data else BackofficeConfig


def _receive(args: argparse.Namespace) -> int:
    config = load(BackofficeConfig, args.config)
    for warning in check_files(config, str(args.config)):
        print(warning, file=sys.stderr)
    try:
        store = open_store(config)
    except DatabaseError as exc:
        print(f"backoffice receive: {exc}", file=sys.stderr)
        return 1
    receiver = Receiver(config, store, on_progress=systemd.notify_watchdog)
    with cli.stop_on_signals() as stop:
        receiver.start()
        # Ready for systemd (Type=notify) once the broker confirmed the subscription.
        while not stop.is_set():
            if receiver.wait_ready(1.0):
                systemd.notify_ready()
                break
        stop.wait()
    receiver.stop()
    store.close()
    # One line per run: with several receivers in a share group, each one's part of the load.
    logger.info(
        "receiver %s stopped: %d events stored, %d duplicates, %d rejected",
        config.receiver.receiver_id,
        receiver.stored,
        receiver.duplicates,
        receiver.rejected,
    )
    return 0


# One example per command, shown under its --help (configkit.helptext).
EXAMPLES = {
    "receive": "backoffice receive --config /etc/lapak/backoffice.toml",
    "watch": "backoffice watch --once --timezone Asia/Makassar",
    "booking keygen": "backoffice booking keygen --next --config /etc/lapak/booking.toml",
    "booking rotate": "backoffice booking rotate --at 2026-12-01T02:00:00+07:00",
    "booking keys": "backoffice booking keys --config /etc/lapak/booking.toml",
    "booking withdraw-key": "backoffice booking withdraw-key 1a2b3c4d",
    "booking trust-list": "backoffice booking trust-list --out trustlist.json",
    "booking issue": "backoffice booking issue --branch jakarta-salemba --service JHT "
    '--date 2020-06-15 --slot 09:00-10:00 --name "Budi Santoso" --qr budi.png',
    "booking cancel": "backoffice booking cancel 7K3-QX9-M2A",
    "booking sample": "backoffice booking sample --branch jakarta-salemba --date 2020-06-15 "
    "--out sample",
    "booking duplicates": "backoffice booking duplicates --branch jakarta-salemba "
    "--date 2020-06-15",
    "booking check-config": "backoffice booking check-config /etc/lapak/booking.toml",
    "api": "backoffice api --config /etc/lapak/booking.toml",
    "occupancy": "backoffice occupancy --branch jakarta-salemba --inside 12 --capacity 40",
}


# A database named in the config that cannot be opened, an event store out of reach, a signing
# key missing, anything else the back office raises on purpose: one line and exit 1.
FAILURES = (cli.Failure((StorageError, BackofficeError), cli.EXIT_FAILED),)


def main(argv: Sequence[str] | None = None) -> int:
    """The `backoffice` console script."""
    parser = cli.new_parser("backoffice", __doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for register in COMMANDS:
        register(sub)
    teach(parser, EXAMPLES)
    return cli.run(parser, argv, failures=FAILURES, log_level=lambda _args: logging.INFO)


if __name__ == "__main__":
    sys.exit(main())
