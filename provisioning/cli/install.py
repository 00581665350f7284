"""`provision install`: one command on a flashed Pi, from packages to a green self-test."""

from __future__ import annotations

import argparse
from pathlib import Path, PurePosixPath

from provisioning import device, names, render
from provisioning.cli.output import EXIT_OK, console
from provisioning.cli.render import host, port, venv_path

EXAMPLES = {
    "install": "sudo provision install --role dropbox --wheel "
    "lapak_asik_appliance-0.1.0-py3-none-any.whl --branch jakarta-salemba --ca /mnt/lapak-ca",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `install` to the tool's commands (its steps run the tool's other commands in `sub`)."""
    p = sub.add_parser(
        "install",
        help="one command on a flashed Pi: packages, venv, wheel, identity, render, check",
        description="Install this device's role, from a flashed Raspberry Pi OS to a green "
        "`provision check`: system packages (apt), the venv with system site packages, the "
        "project from --wheel, `device init` (kept when already provisioned), `render`, "
        "system users and units, then `check`. Each step says what it does; safe to rerun. "
        "With --root DIR it rehearses into a folder: system commands are printed, not run, "
        "and the check uses simulated hardware and branch (give --ca). See docs/install-pi.md.",
        epilog="example: sudo /opt/lapak/venv/bin/provision install --role kiosk --wheel "
        "lapak_asik_appliance-0.1.0-py3-none-any.whl --branch jakarta-salemba --ca "
        "/media/usb/lapak-ca --broker-host broker.jakarta-salemba.lan --trust-anchor KEY",
    )
    p.add_argument(
        "--role",
        required=True,
        choices=["kiosk", "dropbox", "branch-broker"],
        help="what this Pi becomes (branch-broker: the branch's mosquitto)",
    )
    p.add_argument("--root", default="/", help="the device's root (/; a folder to rehearse)")
    p.add_argument("--wheel", help="the project's wheel (`pip wheel --no-deps -w dist .`)")
    p.add_argument(
        "--no-reboot", action="store_true", help="stay up after a green check (default: reboot)"
    )
    p.add_argument(
        "--venv", type=venv_path, default=str(render.DEFAULT_VENV),
        help="the app venv (%(default)s)",
    )  # fmt: skip
    p.add_argument(
        "--branch", required=True, help="branch id, e.g. jakarta-salemba (uplink/branches.toml)"
    )
    p.add_argument("--ca", help="the fleet CA directory (the USB stick) to sign with")
    device_options = p.add_argument_group("kiosk and dropbox (as `device init`)")
    device_options.add_argument("--id", help="device id (default {branch}-{role}-{n})")
    device_options.add_argument(
        "--broker-host", type=host, default="localhost", help="the branch broker (localhost)"
    )
    device_options.add_argument("--api-url", help="kiosk: the booking API base URL")
    device_options.add_argument(
        "--trust-anchor", action="append", metavar="BASE64", help="kiosk: booking root key"
    )
    device_options.add_argument("--trust-list", help="kiosk: the signed trust list file")
    device_options.add_argument("--branch-name", help="kiosk: name on tickets (default: table)")
    device_options.add_argument("--kiosk-code", help="kiosk: one character in ticket numbers")
    device_options.add_argument("--printer", metavar="TRANSPORT:TARGET", help="kiosk: printer")
    device_options.add_argument(
        "--set", action="append", metavar="TABLE.KEY=VALUE", help="edit the role's config"
    )
    broker_options = p.add_argument_group("branch-broker (as `render --role broker`)")
    broker_options.add_argument(
        "--server-name", action="append", help="name devices use to reach this broker"
    )
    broker_options.add_argument("--central-host", type=host, help="bridge to this central broker")
    broker_options.add_argument(
        "--central-port", type=port, default=8883, help="central broker TLS port"
    )
    p.set_defaults(func=lambda args: _install(args, sub))


def _install(
    args: argparse.Namespace, commands: argparse._SubParsersAction[argparse.ArgumentParser]
) -> int:
    from provisioning import install

    names.known(args.branch)  # before anything is installed
    root = Path(args.root)
    on_device = root == Path("/")

    def provision(command: str, *argv: str) -> int:
        """Run `provision COMMAND ARGV...` as parsed by that command's own parser."""
        parsed = commands.choices[command].parse_args(list(argv))
        return int(parsed.func(parsed))

    def device_init() -> int:
        argv = ["device", "init", "--role", args.role, "--branch", args.branch, "--root", args.root]
        for flag, value in (
            ("--id", args.id),
            ("--ca", args.ca),
            ("--broker-host", args.broker_host),
            ("--api-url", args.api_url),
            ("--trust-list", args.trust_list),
            ("--branch-name", args.branch_name),
            ("--kiosk-code", args.kiosk_code),
            ("--printer", args.printer),
        ):
            if value:
                argv += [flag, str(value)]
        for anchor in args.trust_anchor or ():
            argv += ["--trust-anchor", anchor]
        for assignment in args.set or ():
            argv += ["--set", assignment]
        return provision(*argv)

    def provisioned_as() -> str | None:
        layout = device.Layout(root)
        return device.load_record(layout).role if layout.record_file.exists() else None

    def render_role() -> int:
        if args.role != "branch-broker":
            return provision(
                "render", "--role", args.role, "--root", args.root, "--venv", args.venv
            )
        argv = ["render", "--role", "broker", "--root", args.root]
        if args.ca:
            argv += ["--ca", args.ca]
        for name in args.server_name or ():
            argv += ["--server-name", name]
        if args.central_host:
            argv += ["--branch", args.branch, "--central-host", args.central_host]
            argv += ["--central-port", str(args.central_port)]
        return provision(*argv)

    def self_check() -> int:
        if on_device:  # with the CA stick in, its CRL's next update is checked too
            return provision("check", *(["--crl", f"{args.ca}/crl.pem"] if args.ca else []))
        if not args.ca:
            console.print("      a rehearsal without --ca cannot check against a simulated branch")
            return EXIT_OK
        return provision("check", "--root", args.root, "--simulate", "--ca", args.ca)

    plan = install.Plan(
        role=args.role,
        root=root,
        venv=PurePosixPath(args.venv),
        wheel=Path(args.wheel) if args.wheel else None,
        runner=install.RUNNER if on_device else install.REHEARSAL_RUNNER,
        device_init=device_init,
        provisioned_as=provisioned_as,
        render_role=render_role,
        self_check=self_check,
        reboot=not args.no_reboot,
        say=lambda text: console.print(text, markup=False, highlight=False, soft_wrap=True),
    )
    code = install.install(plan)
    if code == EXIT_OK and args.role in install.DEVICE_ROLES and not on_device and args.ca:
        console.print(
            f"next: `provision check --root {args.root} --simulate --ca {args.ca}`", soft_wrap=True
        )
    return code
