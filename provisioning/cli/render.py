"""`provision render`: firmware_config rendered into a root (an SD card, `/` or a test folder)."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path, PurePosixPath

from rich.table import Table

from configkit import check_host
from configkit.expiry import assess
from provisioning import names, pki, render
from provisioning.cli.output import EXIT_FAILED, EXIT_OK, console, errors
from provisioning.errors import Refused

EXAMPLES = {
    "render": "provision render --role kiosk --root /mnt/sd --dry-run | less",
}


# What the rendered files can carry unquoted: a systemd ExecStart= path splits at a space, and
# a mount unit names the partition by its label (ext4: 16 bytes).
_UNIT_PATH = re.compile(r"/[A-Za-z0-9._/-]{1,200}")
_LABEL = re.compile(r"[A-Za-z0-9_-]{1,16}")


def venv_path(text: str) -> str:
    """argparse type of `--venv`: an absolute path a unit file can name as it is."""
    if not _UNIT_PATH.fullmatch(text) or "/../" in f"{text}/":
        raise argparse.ArgumentTypeError(
            f"{text!r}: give an absolute path of letters, digits and . _ - /, e.g. /opt/lapak/venv"
            " (the systemd units start the tools from it)"
        )
    return text


def port(text: str) -> int:
    """argparse type of a TCP port: 1-65535."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: give a TCP port from 1 to 65535, e.g. 8883")
    return value


def host(text: str) -> str:
    """argparse type of a host name or address written into a config."""
    try:
        return check_host(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _label(text: str) -> str:
    if not _LABEL.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a partition label of 1-16 letters, digits, '_' or '-', e.g. lapak-data"
        )
    return text


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `render` to the tool's commands."""
    p = sub.add_parser(
        "render",
        help="render firmware_config into a root (SD card or /)",
        description="Render boot settings, systemd units, udev rules, journald limits and the "
        "kiosk session (or the broker config) into ROOT. Idempotent: a second run changes "
        "nothing. --dry-run shows the diff without writing.",
    )
    p.add_argument(
        "--role", required=True, choices=list(render.ROLES), help="what to render the files of"
    )
    p.add_argument("--root", required=True, help="target root: / or a mounted SD card")
    p.add_argument("--dry-run", action="store_true", help="show what would change, with diffs")
    p.add_argument(
        "--venv",
        type=venv_path,
        default=str(render.DEFAULT_VENV),
        help="the app venv on the target",
    )
    p.add_argument(
        "--rotation", type=int, default=0, choices=[0, 90, 180, 270], help="kiosk display"
    )
    p.add_argument(
        "--read-only-root", action="store_true", help="overlay root + persistent data partition"
    )
    p.add_argument("--data-label", type=_label, default="lapak-data", help="data partition label")
    p.add_argument(
        "--local",
        action="store_true",
        help="paths inside files point into ROOT (a local test broker); never for an SD card",
    )
    broker_options(p)
    p.add_argument(
        "--branch", help="broker: this branch broker's id, from uplink/branches.toml (the bridge)"
    )
    p.add_argument("--central-host", type=host, help="broker: bridge to this central broker")
    p.add_argument("--central-port", type=port, default=8883, help="central broker TLS port")
    p.add_argument(
        "--bridge-device",
        action="append",
        metavar="ID",
        help="broker: bring in acks and commands for these devices only (repeat)",
    )
    p.add_argument("--ca", help="broker: issue its server certificate from this CA directory")
    p.add_argument(
        "--server-name",
        action="append",
        metavar="NAME",
        help="broker: DNS name or address devices connect to (repeat)",
    )
    p.set_defaults(func=_render)


def broker_options(parser: argparse.ArgumentParser) -> None:
    """The broker listener options `render --role broker` and `fleet acl` share."""
    group = parser.add_argument_group("broker options (role broker, fleet acl)")
    group.add_argument("--tls-port", type=port, default=8883, help="TLS listener port (8883)")
    every_interface = "0.0.0.0"  # noqa: S104 (a broker listens on the branch's network)
    group.add_argument(
        "--bind", type=host, default=every_interface, help="listener address (0.0.0.0)"
    )
    group.add_argument(
        "--backoffice-user", default="backoffice", help="CN of the back office's certificate"
    )
    group.add_argument(
        "--bridge-branch",
        action="append",
        metavar="BRANCH",
        help="central broker: let this branch's bridge in (repeat per branch)",
    )


def options_of(args: argparse.Namespace) -> render.RenderOptions:
    """The render options given on the command line (those a command lacks take defaults)."""
    return render.RenderOptions(
        venv=PurePosixPath(getattr(args, "venv", render.DEFAULT_VENV)),
        rotation_deg=getattr(args, "rotation", 0),
        read_only_root=getattr(args, "read_only_root", False),
        data_label=getattr(args, "data_label", "lapak-data"),
        tls_port=args.tls_port,
        bind_address=args.bind,
        backoffice_user=args.backoffice_user,
        branch=_known(getattr(args, "branch", None)),
        central_host=getattr(args, "central_host", None),
        central_port=getattr(args, "central_port", 8883),
        bridge_devices=tuple(getattr(args, "bridge_device", None) or ()),
        bridge_branches=tuple(names.known(b) for b in args.bridge_branch or ()),
        identities=_fleet_identities(getattr(args, "ca", None)),
    )


def _known(branch: str | None) -> str | None:
    return None if branch is None else names.known(branch)


def _fleet_identities(ca_dir: str | None) -> tuple[str, ...]:
    """The names of the CA's active client certificates: who the broker admits."""
    if not ca_dir:
        return ()
    records = pki.CADirectory(Path(ca_dir)).records()
    return tuple(sorted({r.name for r in records if r.kind == "client" and r.active}))


def _render(args: argparse.Namespace) -> int:
    target = render.Target(Path(args.root), local=args.local)
    if args.ca and args.role != "broker":
        raise Refused("--ca is for the broker role; devices get theirs with `device init`")
    if args.ca and not args.dry_run and not args.server_name:
        raise Refused("--ca needs --server-name: the name devices use to reach this broker")
    options = options_of(args)  # refuses an unknown branch before a certificate is issued
    if args.ca and not args.dry_run:
        with console.status("installing the broker's key and certificate"):
            issued = render.install_broker_identity(
                target,
                pki.CADirectory(Path(args.ca)),
                args.server_name,
                # A branch broker bridged to head office: its bridge's certificate too.
                bridge_branch=options.branch if options.central_host else None,
            )
        if issued:
            console.print(f"broker certificate issued for {', '.join(args.server_name)}")
        _warn_if_crl_due(pki.CADirectory(Path(args.ca)))
    entries = render.plan(args.role, target, options)
    boot = target.host(render.BOOT_DIR / "config.txt")
    if args.role in render.DEVICE_ROLES and not boot.exists():
        errors.print(
            f"warning: {boot} does not exist: is the SD card's boot partition mounted at "
            f"{boot.parent}? Rendering makes a new config.txt there that the Pi would never read; "
            "mount the boot partition and render again",
            markup=False,
            highlight=False,
        )
    changes = render.apply(entries, target, dry_run=args.dry_run)
    return _report_render(args.role, args.root, entries, changes, dry_run=args.dry_run)


def _report_render(
    role: str,
    root: str,
    entries: list[render.Entry],
    changes: list[render.Change],
    *,
    dry_run: bool,
) -> int:
    """Print the render's table (and diffs in a dry run); exit 1 if a needed file is missing."""
    edits = [c for c in changes if c.actions]
    missing = [c for c in changes if c.missing]
    verb = "would change" if dry_run else "changed"
    if not console.is_terminal:
        # Piped to a file or a pager: plain lines and a plain unified diff (`patch` reads it);
        # a table would wrap at 80 columns and cut long paths with "…".
        if edits:
            sys.stdout.write(f"# {role} into {root}: {len(edits)} of {len(entries)} {verb}\n")
        else:
            sys.stdout.write(f"# {role}: {len(entries)} entries already up to date in {root}\n")
        for change in edits:
            sys.stdout.write(f"# {change.entry.path}: {', '.join(change.actions)}\n")
        if dry_run:
            sys.stdout.writelines(change.diff for change in edits if change.diff)
        sys.stdout.flush()
    elif edits:
        table = Table(title=f"{role} into {root}: {len(edits)} of {len(entries)} {verb}")
        table.add_column("path")
        table.add_column("action")
        for change in edits:
            table.add_row(str(change.entry.path), ", ".join(change.actions))
        console.print(table)
    else:
        console.print(f"{role}: {len(entries)} entries already up to date in {root}")
    if dry_run and console.is_terminal:
        for change in edits:
            if change.diff:
                console.print(change.diff, markup=False, highlight=False, end="")
    for change in missing:
        errors.print(
            f"missing: {change.entry.path}: {change.missing}", markup=False, highlight=False
        )
    if missing and not dry_run:
        return EXIT_FAILED
    if edits and not dry_run and Path(root) == Path("/"):
        console.print(
            "next: `systemd-sysusers && systemctl daemon-reload && udevadm control --reload "
            "&& reboot` (boot settings take effect at boot)",
            soft_wrap=True,
        )
    return EXIT_OK


def _warn_if_crl_due(ca: pki.CADirectory) -> None:
    """The broker reads the CRL only when it starts: one past its next update then locks every
    device out, so say it now, while the CA stick is in."""
    next_update = pki.load_crl(ca.crl_file).next_update_utc
    if next_update is None:
        return
    due = assess(
        "the CRL copied to the broker", next_update, dt.datetime.now(dt.UTC),
        f"`provision ca crl --dir {ca.directory}`, then render again",
        ends_as="is due for its next update", ended_as="was due for its next update",
    )  # fmt: skip
    if due.status != "pass":
        errors.print(f"warning: {due.detail}: {due.fix}", markup=False, soft_wrap=True)
