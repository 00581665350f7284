"""`provision check`, `provision test-card` and `provision config check`: is this device right?"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

from configkit import check_command, cli
from provisioning import device, roles
from provisioning.cli.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, console, errors
from provisioning.errors import Refused

EXAMPLES = {
    "test-card": "provision test-card --out card.png",
    "config check": "provision config check --role dropbox /etc/lapak/dropbox.toml",
    "check": "provision check --root demo/dropbox --simulate --ca demo/ca",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `check`, `test-card` and `config check` to the tool's commands."""
    p = sub.add_parser("test-card", help="write the QR test card for the camera check (PNG)")
    p.add_argument("--out", required=True, help="PNG file to write")
    p.set_defaults(func=_test_card)

    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    p = config_sub.add_parser("check", help="validate a device's TOML file for its role")
    p.add_argument("--role", required=True, choices=sorted(roles.MODELS), help="device role")
    p.add_argument("file", help="the TOML file, e.g. /etc/lapak/kiosk.toml")
    p.set_defaults(func=lambda args: check_command(roles.model(args.role), args.file))

    p = sub.add_parser(
        "check",
        help="self-test with a pass/fail table",
        description="Test this device: every adapter, camera frame, QR test card, thermometer, "
        "printer, GPIO inputs, clock, broker over TLS with this device's certificate, a "
        "back-office ack, and the backend API; the device, CA and broker certificates and the "
        "CRL are warned about 30 days before they run out. Exit 1 if anything failed.",
    )
    p.add_argument("--root", default="/", help="the device's root (/)")
    p.add_argument(
        "--simulate",
        action="store_true",
        help="simulated hardware and a simulated branch (broker, back office, API) on loopback",
    )
    p.add_argument("--ca", help="with --simulate: the CA that signed this device")
    p.add_argument(
        "--fail", metavar="NAMES", help="with --simulate: inject failures, e.g. printer,camera"
    )
    p.add_argument(
        "--timeout", type=cli.seconds(3600), default=10.0, help="seconds per network wait (10)"
    )
    p.add_argument(
        "--crl",
        metavar="FILE",
        type=Path,
        help="also check this CRL's next update (the brokers' crl.pem, e.g. a copy on the CA "
        "stick; default: the simulated CA's, or a broker's rendered under --root)",
    )
    p.set_defaults(func=_check)


def _test_card(args: argparse.Namespace) -> int:
    from provisioning import hardware

    path = hardware.test_card_png(Path(args.out))
    console.print(
        f"QR test card written to {path}: print it and hold it 20-40 cm in front of the kiosk "
        "camera during `provision check`"
    )
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from provisioning import selftest

    inject = frozenset(n for n in (args.fail or "").split(",") if n)
    unknown = inject - selftest.INJECTABLE
    if unknown:
        errors.print(
            f"--fail {','.join(sorted(unknown))}: unknown; choose from "
            f"{', '.join(sorted(selftest.INJECTABLE))}"
        )
        return EXIT_USAGE
    if inject and not args.simulate:
        errors.print("--fail injects failures into simulated hardware: add --simulate")
        return EXIT_USAGE
    layout = device.Layout(Path(args.root))
    if not args.simulate and Path(args.root) == Path("/"):
        _refuse_if_running(device.load_record(layout).role)
    results = selftest.run_self_test(
        layout,
        simulate=args.simulate,
        ca_dir=Path(args.ca) if args.ca else None,
        inject=inject,
        timeout_s=args.timeout,
        console=console,
        crl_file=args.crl,
    )
    return EXIT_OK if all(r.outcome.status != "fail" for r in results) else EXIT_FAILED


def _refuse_if_running(role: str) -> None:
    """The self-test uses the device's identity and outbox: not while the service runs."""
    systemctl = shutil.which("systemctl")
    if systemctl is None or not Path("/run/systemd/system").exists():
        return
    unit = f"lapak-{role}.service"
    active = subprocess.run([systemctl, "is-active", "--quiet", unit], check=False)
    if active.returncode == 0:
        raise Refused(f"{unit} is running; stop it first: systemctl stop {unit}")
