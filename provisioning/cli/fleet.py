"""`provision fleet acl`: the central broker's access rules and listener config."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from provisioning import render
from provisioning.cli.output import EXIT_OK, console
from provisioning.cli.render import broker_options, options_of

EXAMPLES = {
    "fleet acl": "provision fleet acl --bridge-branch jakarta-salemba --out acl",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `fleet acl` to the tool's commands."""
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
