"""`provision fleet acl` and `fleet registry`: the central broker's access rules and listener
config, and the device registry the booking back office reads."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from provisioning import pki, registry, render
from provisioning.cli.output import EXIT_OK, console, errors
from provisioning.cli.render import broker_options, options_of

EXAMPLES = {
    "fleet acl": "provision fleet acl --bridge-branch jakarta-salemba --out acl",
    "fleet registry": "provision fleet registry --ca /mnt/lapak-ca --out devices.toml",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `fleet acl` and `fleet registry` to the tool's commands."""
    fleet = sub.add_parser("fleet", help="fleet-wide broker configuration")
    fleet_sub = fleet.add_subparsers(dest="fleet_command", required=True, metavar="ACTION")
    p = fleet_sub.add_parser(
        "acl", help="the central broker's access rules (dynamic security) and listener config"
    )
    broker_options(p)
    p.add_argument(
        "--ca",
        help="admit the active client certificates of this CA directory (re-run after "
        "issuing one, then restart the broker)",
    )
    p.add_argument(
        "--out", help="write dynamic-security.json and mosquitto.conf here instead of stdout"
    )
    p.set_defaults(func=_fleet_acl)
    p = fleet_sub.add_parser(
        "registry",
        help="the device registry for the back office: each device's role and branch, from the CA",
    )
    p.add_argument("--ca", required=True, help="the fleet CA directory")
    p.add_argument(
        "--out",
        required=True,
        help="the file to write (the booking back office's device_registry_path)",
    )
    p.set_defaults(func=_fleet_registry)


def _fleet_registry(args: argparse.Namespace) -> int:
    export = registry.from_ca(pki.CADirectory(Path(args.ca)))
    out = Path(args.out)
    registry.write(out, export.registry)
    kiosks = sum(1 for d in export.registry.devices if d.role == "kiosk")
    console.print(
        f"wrote {out}: {len(export.registry.devices)} device(s), {kiosks} kiosk(s); copy it to "
        "the booking back office's device_registry_path (read again when it changes)"
    )
    if export.unnamed:
        errors.print(
            f"left out (certificate names no role and branch, issued before they were "
            f"recorded): {', '.join(export.unnamed)}; give each a new certificate with "
            "`provision device rotate --ca CA_DIR` on the device, then export again",
            markup=False,
            highlight=False,
        )
    return EXIT_OK


def _fleet_acl(args: argparse.Namespace) -> int:
    options = options_of(args)
    dynsec = render.dynsec_text(options)
    conf = render.broker_conf_text(render.Target(Path("/")), options)
    dynsec_path = render.BROKER_PKI / render.DYNSEC_FILE
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / render.DYNSEC_FILE).write_text(dynsec)
        (out / "mosquitto.conf").write_text(conf)
        console.print(
            f"wrote {out / render.DYNSEC_FILE} (for {dynsec_path}) and "
            f"{out / 'mosquitto.conf'} (for {render.MOSQUITTO_DIR / 'mosquitto.conf'}); "
            "`provision render --role broker` installs both with the broker's certificate"
        )
        return EXIT_OK
    sys.stdout.write(f"# ---- {dynsec_path} ----\n")
    sys.stdout.write(dynsec)
    sys.stdout.write(f"\n# ---- {render.MOSQUITTO_DIR / 'mosquitto.conf'} ----\n")
    sys.stdout.write(conf)
    return EXIT_OK
