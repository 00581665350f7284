"""`kiosk`: the branch entrance kiosk: run it, check in headless, scan QR images, verify tokens.

Commands:

    kiosk run [--config FILE]               the appliance (systemd runs this)
    kiosk run --simulate                    the touchscreen on simulated devices, with a panel
    kiosk checkin --simulate ...            the check-in flow headless: images in, tickets out
    kiosk scan IMAGE...                     one JSON line per image: {"file", "texts", "ms"}
    kiosk verify TOKEN [--config FILE]      JSON verdict of one booking token
    kiosk config check FILE                 validate a kiosk TOML file
    kiosk ui gallery --out DIR              every touchscreen screen as PNG files

Exit codes: 0 ok (verify: accepted), 1 failure (verify: refused; scan: an unreadable file;
run: a camera, printer, store or booking cache unusable at start, said in one line), 2 bad
configuration or usage, 130 interrupted (Ctrl-C; `kiosk run` stops cleanly and exits 0).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from configkit import check_command, check_files, cli, layout, load
from configkit.helptext import teach
from kiosk.booking import cli as booking_cli
from kiosk.config import KioskConfig
from kiosk.errors import CameraError, KioskError, PrinterError
from kiosk.ui import cli as ui_cli
from uplink.booking.options import add_service_option
from uplink.errors import StorageError

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]
EXIT_OK, EXIT_FAILED, EXIT_USAGE = cli.EXIT_OK, cli.EXIT_FAILED, cli.EXIT_USAGE

logger = logging.getLogger(__name__)


def _register_builtin(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser(
        "run",
        help="run the kiosk (camera, thermometer, printer, uplink; the touchscreen when [ui] "
        "enables it and a display exists)",
    )
    what = run.add_mutually_exclusive_group()
    what.add_argument(
        "--config",
        type=Path,
        default=layout.config_file("kiosk"),
        help="kiosk TOML file (default %(default)s)",
    )
    what.add_argument(
        "--simulate",
        action="store_true",
        help="the touchscreen on simulated devices with a simulation panel (needs a display)",
    )
    run.add_argument("--out", type=Path, help="--simulate: folder for tickets and events")
    run.add_argument("--now", help="--simulate: start the kiosk's clock at this ISO 8601 time")
    run.set_defaults(func=_run)

    scan = sub.add_parser("scan", help="decode QR codes in image files (one JSON line per image)")
    scan.add_argument(
        "images", nargs="+", type=Path, metavar="IMAGE", help="photos or screenshots (PNG, JPEG)"
    )
    scan.add_argument(
        "--budget-ms",
        type=float,
        default=800.0,
        help="time for preprocessing fallbacks per image after the plain call misses "
        "(ms, default 800)",
    )
    scan.set_defaults(func=_scan)

    checkin = sub.add_parser(
        "checkin",
        help="check participants in headless: QR images in, ticket PNGs and events out",
        description="Runs the real engine and verifier with a simulated thermometer, printer "
        "and clock. Prints one JSON line per arrival; tickets and slips go to OUT as PNGs, "
        "events to OUT/events.jsonl.",
    )
    checkin.add_argument("images", nargs="*", type=Path, metavar="IMAGE", help="booking QRs")
    checkin.add_argument(
        "--simulate", action="store_true", required=True, help="simulated devices (required)"
    )
    checkin.add_argument("--out", required=True, type=Path, help="output folder")
    source = checkin.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--config", type=Path, help="kiosk TOML file (its [booking] trust list verifies)"
    )
    source.add_argument(
        "--demo",
        type=int,
        metavar="N",
        help="no config: make a throwaway issuer and N sample booking QRs in OUT/demo",
    )
    add_service_option(
        checkin,
        "a walk-in (no booking) arrives after the images and chooses this claim programme; "
        "repeat for more walk-ins",
        action="append",
        dest="services",
        default=[],
    )
    checkin.add_argument(
        "--temperature",
        action="append",
        default=[],
        metavar="C[,C]",
        help="forehead reading(s) of one arrival, first and after the rest (e.g. 38.2,36.9); "
        "repeat for the next arrivals, the last one applies to the rest (default 36.6)",
    )
    checkin.add_argument("--now", help="ISO 8601 time with UTC offset (default: now)")
    checkin.add_argument(
        "--paper", type=int, metavar="N", help="the printer runs out of paper after N prints"
    )
    checkin.set_defaults(func=_checkin)

    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate a kiosk TOML file")
    check.add_argument("file", type=Path, help="the kiosk TOML file to check")
    check.set_defaults(func=lambda args: check_command(KioskConfig, args.file))


# Other capabilities add their subcommands here (each module has `register(subparsers)`).
COMMANDS: list[Register] = [_register_builtin, booking_cli.register, ui_cli.register]


def _run(args: argparse.Namespace) -> int:
    from kiosk import app

    if args.simulate:
        from kiosk.ui.run import run_simulated_ui

        try:
            return run_simulated_ui(args.out, now=args.now)
        except ValueError as exc:
            print(f"kiosk run: {exc}", file=sys.stderr)
            return EXIT_USAGE
    config = load(KioskConfig, args.config)
    for warning in check_files(config, str(args.config)):
        print(warning, file=sys.stderr)
    if config.camera.source == "picamera2":
        from kiosk.adapters import picamera

        usable, why = picamera.is_usable()
        if not usable:  # it will not appear by itself: stop once, with the fix (FAILURES)
            raise CameraError(  # `why` says what to install
                f"camera: {why}; the venv must see the system's packages (make it with "
                "--system-site-packages), or set [camera] source to usb or folder"
            )
    with cli.stop_on_signals() as stop:
        if config.ui.enabled:
            from kiosk.ui.run import run_with_ui

            if run_with_ui(config, stop):
                return EXIT_OK
        app.run(config, stop)
    return EXIT_OK


def _scan(args: argparse.Namespace) -> int:
    from kiosk.adapters.qr import QrDecoder, load_photo

    decoder = QrDecoder(formats="all", budget_ms=args.budget_ms)
    status = EXIT_OK
    for path in args.images:
        record: dict[str, object] = {"file": str(path)}
        try:
            photo = load_photo(path)
        except OSError as exc:
            record.update(texts=[], ms=0.0, error=f"cannot read the image: {exc}")
            status = EXIT_FAILED
        else:
            result = decoder.decode(photo, rgb=True)
            record.update(texts=list(result.texts), ms=result.ms, strategy=result.strategy)
        print(json.dumps(record, ensure_ascii=False), flush=True)
    return status


def _checkin(args: argparse.Namespace) -> int:
    from kiosk.sim.runner import Arrival, checkin_simulated

    try:
        now = _parse_now(args.now)
        temperatures = [_parse_temperatures(text) for text in args.temperature] or [(36.6,)]
        if args.demo is not None and not 0 <= args.demo <= 500:
            raise ValueError(f"--demo {args.demo}: make between 0 and 500 sample bookings")
    except ValueError as exc:
        print(f"kiosk checkin: {exc}", file=sys.stderr)
        return EXIT_USAGE
    images: list[Path] = list(args.images)
    if args.config is not None:
        config = load(KioskConfig, args.config)
    else:
        config, demo_images = _demo(args.out / "demo", args.demo, now)
        images = demo_images + images
    missing = [str(path) for path in images if not path.is_file()]
    if missing:
        print(f"kiosk checkin: no such image file: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    status = EXIT_OK
    readable: list[Path] = []
    for path in images:  # one line for a file that is not an image, and on with the rest
        problem = _unreadable(path)
        if problem is None:
            readable.append(path)
        else:
            print(json.dumps({"file": str(path), "error": problem}, ensure_ascii=False))
            status = EXIT_FAILED
    images = readable
    arrivals = [Arrival(image=path) for path in images]
    arrivals += [Arrival(service=service) for service in args.services]
    arrivals = [
        Arrival(a.image, a.service, temperatures[min(i, len(temperatures) - 1)])
        for i, a in enumerate(arrivals)
    ]
    records = checkin_simulated(config, arrivals, args.out, now=now, paper_left=args.paper)
    for record in records:
        print(json.dumps(record, ensure_ascii=False))
    tickets = sum(1 for record in records if record.get("phase") == "ticket")
    print(
        f"{len(records)} arrivals, {tickets} tickets; PNGs and events.jsonl in {args.out}",
        file=sys.stderr,
    )
    return status


def _unreadable(path: Path) -> str | None:
    """Why `path` is not an image the kiosk can read, or None when it is."""
    from kiosk.adapters.qr import load_photo

    try:
        load_photo(path)
    except OSError as exc:
        return f"cannot read the image: {exc}"
    return None


def _demo(directory: Path, count: int, now: datetime | None) -> tuple[KioskConfig, list[Path]]:
    from kiosk.sim.bookings import SimIssuer
    from kiosk.sim.demo import demo_bookings, demo_config

    issuer = SimIssuer()
    config = demo_config(directory, issuer)
    moment = now or datetime.now(UTC)
    made = demo_bookings(directory / "qr", issuer, config, at=moment, count=count)
    return config, [booking.image for booking in made]


def _parse_now(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:  # "day is out of range for month" named neither option nor form
        raise ValueError(f"--now {text!r}: {exc}; use e.g. 2020-06-15T09:10:00+07:00") from None
    if moment.tzinfo is None:
        raise ValueError(f"--now {text!r} needs a UTC offset, e.g. 2020-06-15T09:10:00+07:00")
    return moment


def _parse_temperatures(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"--temperature {text!r}: use degrees C, e.g. 36.6 or 38.2,36.9") from None
    if not values or len(values) > 2 or not all(20.0 <= v <= 45.0 for v in values):
        raise ValueError(f"--temperature {text!r}: one or two readings between 20 and 45 C")
    return values


# One example per command, shown under its --help (configkit.helptext; a test holds every command
# to having one).
EXAMPLES = {
    "run": "kiosk run --config /etc/lapak/kiosk.toml",
    "scan": "kiosk scan frame-1.png frame-2.jpg",
    "checkin": "kiosk checkin --simulate --demo 3 --service jkk --out /tmp/checkin",
    "config check": "kiosk config check kiosk/examples/kiosk.toml",
    "verify": "kiosk verify --code 960-443-TY2",
    "trust-list show": "kiosk trust-list show --config /etc/lapak/kiosk.toml",
    "trust-list install": "kiosk trust-list install /media/usb/trust-list.json",
    "ui gallery": "kiosk ui gallery --out /tmp/screens",
    "hash-pin": "kiosk hash-pin",
    "voices": "kiosk voices --config /etc/lapak/kiosk.toml --out /var/lib/lapak/kiosk/voices",
}


def main(argv: Sequence[str] | None = None) -> int:
    """The `kiosk` console script."""
    parser = cli.new_parser("kiosk", __doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for register in COMMANDS:
        register(sub)
    teach(parser, EXAMPLES)
    return cli.run(parser, argv, failures=FAILURES, log_level=_log_level)


# What `kiosk run` cannot start without, and any other error the kiosk raises on purpose, is one
# line and exit 1, as dropbox-agent says it: a camera, thermometer or printer unusable here
# (CameraError, ThermometerError, PrinterError), a store or file named in the config that cannot
# be opened (uplink's StorageError: outbox, ledger, ticket book, booking cache), a synced
# document or the booking API (CacheError, ApiUnavailable), espeak-ng (VoiceError). A config
# that does not validate is exit 2 (configkit.cli).
FAILURES = (cli.Failure((StorageError, KioskError, PrinterError), EXIT_FAILED),)


def _log_level(args: argparse.Namespace) -> int:
    """The appliance logs what it does; the one-shot commands stay quiet."""
    return logging.INFO if args.command == "run" else logging.WARNING


if __name__ == "__main__":
    sys.exit(main())
