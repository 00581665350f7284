"""`provision`: device identities, firmware rendering, fleet broker config and the self-test.

Exit codes:
  0  done (for `check`: every check passed or was skipped)
  1  a check failed, or an operation failed (the message says what to fix)
  2  usage or configuration error (bad arguments, unreadable or invalid file)
  3  refused by a provisioning rule (duplicate identity, unsafe id, plain MQTT to a
     non-loopback broker, existing CA, device already provisioned, service running)
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from rich.console import Console
from rich.table import Table

from configkit import ConfigError, check_command
from configkit.helptext import teach
from provisioning import device, names, pki, render, roles
from provisioning.errors import InvalidSetup, ProvisionError, Refused
from uplink.errors import TopicError

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3

EXAMPLES = """\
A new device in simulation, from nothing to a green self-test (three commands):
  provision ca init --dir demo/ca --name "Lapak Asik demo CA"
  provision device init --role dropbox --branch jakarta-salemba --root demo/dropbox --ca demo/ca
  provision check --root demo/dropbox --simulate --ca demo/ca
A kiosk also needs --trust-anchor KEY (`backoffice booking keygen` prints it).

On a Pi (as root), everything in one command, safe to rerun (docs/install-pi.md):
  provision install --role kiosk --wheel lapak_asik_appliance-0.1.0-py3-none-any.whl \\
      --branch jakarta-salemba --ca /mnt/lapak-ca --broker-host broker.jakarta-salemba.lan \\
      --trust-anchor KEY

Exit codes: 0 ok, 1 a check or operation failed, 2 usage or config error,
3 refused by a provisioning rule (duplicate identity, unsafe id, plain MQTT off loopback).
"""

console = Console()
# Messages are not wrapped: a technician may copy a path or a command out of them.
errors = Console(stderr=True, soft_wrap=True)


# -- ca ------------------------------------------------------------------------------------------


def _ca_init(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    if (directory / pki.CA_KEY).exists() or (directory / pki.CA_CERT).exists():
        raise Refused(
            f"{directory} already holds a CA; use it or choose another --dir "
            "(replacing a CA cuts off every device it signed)"
        )
    passphrase = _new_passphrase(args.ca_passphrase_fd) if args.passphrase else None
    with console.status("creating the CA key and certificate"):
        ca = pki.CADirectory.init(directory, args.name, days=args.days, passphrase=passphrase)
    console.print(f"CA [bold]{args.name}[/] created in {directory}")
    console.print(f"  certificate  {ca.cert_file}  (give it to brokers and devices)")
    console.print(
        f"  private key  {directory / pki.CA_KEY}  (0600"
        + (", encrypted with your passphrase" if passphrase else "")
        + ": keep it offline, on its USB stick)"
    )
    console.print(f"  CRL          {ca.crl_file}  (mosquitto `crlfile`)")
    return EXIT_OK


def _new_passphrase(fd: int | None) -> bytes:
    """The new CA key's passphrase: from file descriptor `fd`, or asked twice on the terminal."""
    if fd is not None:
        return _read_passphrase(fd)
    if not sys.stdin.isatty():
        raise InvalidSetup("--passphrase needs a terminal to ask on, or --ca-passphrase-fd N")
    first = getpass.getpass("passphrase for the CA key: ")
    if len(first) < 8:
        raise InvalidSetup("the passphrase is too short: use at least 8 characters")
    if getpass.getpass("the same passphrase again: ") != first:
        raise InvalidSetup("the two passphrases differ; run the command again")
    return first.encode()


def _read_passphrase(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 4096):
        chunks.append(chunk)
    passphrase = b"".join(chunks).rstrip(b"\r\n")
    if not passphrase:
        raise InvalidSetup(f"--ca-passphrase-fd {fd}: nothing to read (an empty passphrase)")
    return passphrase


def _passphrase_source(fd: int | None) -> pki.PassphraseSource | None:
    """How an encrypted CA key is opened: from `fd` (read once), else a prompt on a terminal."""
    if fd is None and not sys.stdin.isatty():
        return None
    remembered: list[bytes] = []

    def source() -> bytes:
        if not remembered:
            remembered.append(
                _read_passphrase(fd)
                if fd is not None
                else getpass.getpass("passphrase for the CA key: ").encode()
            )
        return remembered[0]

    return source


def _ca_issue(args: argparse.Namespace) -> int:
    ca = pki.CADirectory(Path(args.dir))
    csr = pki.load_csr(Path(args.csr))
    name = pki.common_name(csr.subject) or ""
    if not args.server_name:
        try:
            from uplink.topics import check_id

            check_id(name, "certificate name (CN)")
        except TopicError as exc:
            raise Refused(str(exc)) from None
    cert = ca.issue(csr, server_names=args.server_name or None, days=args.days, rotate=args.rotate)
    out = Path(args.out)
    pki.write_cert(out, cert)
    kind = "server" if args.server_name else "client"
    console.print(f"issued {kind} certificate for [bold]{name}[/], serial {cert.serial_number:x}")
    console.print(f"  written to {out}; the CA certificate is {ca.cert_file}")
    if args.rotate:
        console.print(f"  older certificates of {name} revoked; new CRL in {ca.crl_file}")
    return EXIT_OK


def _ca_revoke(args: argparse.Namespace) -> int:
    ca = pki.CADirectory(Path(args.dir))
    revoked = ca.revoke(name=args.name, serial=args.serial, reason=args.reason)
    for record in revoked:
        console.print(f"revoked {record.name} serial {record.serial} ({record.reason})")
    console.print(
        f"CRL updated: {ca.crl_file}. Copy it to each broker's crlfile and restart mosquitto "
        "(`systemctl restart mosquitto`): the broker reads the CRL when it starts."
    )
    return EXIT_OK


def _ca_crl(args: argparse.Namespace) -> int:
    ca = pki.CADirectory(Path(args.dir))
    path = ca.write_crl(days=args.days)
    console.print(f"CRL renewed for {args.days} days: {path}")
    return EXIT_OK


def _ca_list(args: argparse.Namespace) -> int:
    ca = pki.CADirectory(Path(args.dir))
    table = Table(title=f"certificates issued by {pki.common_name(ca.ca.cert.subject)}")
    for column in ("name", "kind", "serial", "valid until", "status"):
        table.add_column(column)
    for record in ca.records():
        if record.revoked_at:
            status = f"[red]revoked[/] ({record.reason})"
        elif record.active:
            status = "[green]valid[/]"
        else:
            status = "[yellow]expired[/]"
        table.add_row(record.name, record.kind, record.serial, record.not_after[:10], status)
    console.print(table)
    return EXIT_OK


def _key(args: argparse.Namespace) -> int:
    key_file, csr_file = Path(args.key), Path(args.csr)
    if key_file.exists():
        raise Refused(f"{key_file} exists; a key is made once where it is used (remove it first)")
    key = pki.new_key()
    pki.write_key(key_file, key)
    csr = pki.make_csr(key, args.cn)
    pki.write_csr(csr_file, csr)
    console.print(f"key {key_file} (0600) and CSR {csr_file} for CN {args.cn}")
    return EXIT_OK


def _test_card(args: argparse.Namespace) -> int:
    from provisioning import hardware

    path = hardware.test_card_png(Path(args.out))
    console.print(
        f"QR test card written to {path}: print it and hold it 20-40 cm in front of the kiosk "
        "camera during `provision check`"
    )
    return EXIT_OK


# -- device --------------------------------------------------------------------------------------


def _device_init(args: argparse.Namespace) -> int:
    # Absolute: the config written holds paths that work from any working directory.
    layout = device.Layout(Path(args.root).resolve())
    ca = pki.CADirectory(Path(args.ca)) if args.ca else None

    def step(text: str) -> None:
        console.print(f"  {text}")

    device_id = args.id or names.default_device_id(
        args.branch, args.role, (r.name for r in ca.records() if r.active) if ca else ()
    )
    with console.status("provisioning"):
        record = device.init(
            layout,
            role=args.role,
            device_id=device_id,
            branch=args.branch,
            broker=device.BrokerTarget(args.broker_host, args.broker_port, not args.plain),
            ca=ca,
            api_url=args.api_url,
            extra={
                "trust_anchors": args.trust_anchor,
                "branch_name": args.branch_name,
                "kiosk_code": args.kiosk_code,
                "printer": args.printer,
                "trust_list": args.trust_list,
            },
            overrides=args.set or (),
            step=step,
        )
    console.print(
        f"[green]device {record.device_id}[/] ({record.role}, branch {record.branch}) "
        f"provisioned; config {record.config_file}"
    )
    if ca is None:
        cert, ca_cert = layout.pki_dir / "device.signed.crt", layout.pki_dir / "ca.signed.crt"
        console.print(
            f"have {layout.csr_file} signed by the fleet CA (on the CA's machine: `provision ca "
            "issue --dir CA_DIR --csr device.csr --out device.crt`); put the certificate at "
            f"{cert} and the CA's ca.crt at {ca_cert}",
            soft_wrap=True,
        )
        console.print(
            f"next: `provision device install-cert{_root_arg(args)} --cert {cert} "
            f"--ca-cert {ca_cert}`",
            soft_wrap=True,
        )
    else:
        # A device simulated in a folder is checked against a simulated branch from the same CA.
        simulated = f" --simulate --ca {args.ca}" if _root_arg(args) else ""
        console.print(f"next: `provision check{_root_arg(args)}{simulated}`", soft_wrap=True)
    return EXIT_OK


def _device_install_cert(args: argparse.Namespace) -> int:
    layout = device.Layout(Path(args.root))
    what = device.install_cert(layout, Path(args.cert), Path(args.ca_cert))
    console.print(f"certificate {what}: {layout.cert_file}")
    return EXIT_OK


def _device_rotate(args: argparse.Namespace) -> int:
    layout = device.Layout(Path(args.root))
    ca = pki.CADirectory(Path(args.ca)) if args.ca else None
    with console.status("rotating the device certificate") as status:
        result = device.rotate(layout, ca, step=lambda text: status.update(text))
    if result == "pending":
        console.print(
            f"new key made; have {layout.csr_file} signed, then `provision device install-cert`"
        )
    else:
        console.print(
            f"certificate rotated: {layout.cert_file}; the old one is revoked "
            f"(CRL {ca.crl_file if ca else ''})"
        )
        console.print("restart the device's service to use it")
    return EXIT_OK


def _device_show(args: argparse.Namespace) -> int:
    record = device.load_record(device.Layout(Path(args.root)))
    for key, value in record.model_dump().items():
        console.print(f"{key:15} {value}")
    return EXIT_OK


def _root_arg(args: argparse.Namespace) -> str:
    return "" if Path(args.root) == Path("/") else f" --root {args.root}"


# -- render and fleet ----------------------------------------------------------------------------


def _options(args: argparse.Namespace) -> render.RenderOptions:
    return render.RenderOptions(
        venv=PurePosixPath(getattr(args, "venv", render.DEFAULT_VENV)),
        rotation_deg=getattr(args, "rotation", 0),
        read_only_root=getattr(args, "read_only_root", False),
        data_label=getattr(args, "data_label", "lapak-data"),
        tls_port=args.tls_port,
        bind_address=args.bind,
        backoffice_user=args.backoffice_user,
        branch=getattr(args, "branch", None),
        central_host=getattr(args, "central_host", None),
        central_port=getattr(args, "central_port", 8883),
        bridge_devices=tuple(getattr(args, "bridge_device", None) or ()),
        bridge_branches=tuple(args.bridge_branch or ()),
        identities=_fleet_identities(getattr(args, "ca", None)),
    )


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
    if args.ca and not args.dry_run:
        if not args.server_name:
            raise Refused("--ca needs --server-name: the name devices use to reach this broker")
        with console.status("installing the broker's key and certificate"):
            issued = render.install_broker_identity(
                target, pki.CADirectory(Path(args.ca)), args.server_name
            )
        if issued:
            console.print(f"broker certificate issued for {', '.join(args.server_name)}")
    entries = render.plan(args.role, target, _options(args))
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


def _fleet_acl(args: argparse.Namespace) -> int:
    options = _options(args)
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


# -- check ---------------------------------------------------------------------------------------


def _install(args: argparse.Namespace) -> int:
    from provisioning import install

    root = Path(args.root)
    on_device = root == Path("/")
    parser = build_parser()

    def provision(*argv: str) -> int:
        parsed = parser.parse_args(list(argv))
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
        if on_device:
            return provision("check")
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


# -- parser --------------------------------------------------------------------------------------


def _broker_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("broker options (role broker, fleet acl)")
    group.add_argument("--tls-port", type=int, default=8883, help="TLS listener port (8883)")
    group.add_argument("--bind", default="0.0.0.0", help="listener address (0.0.0.0)")  # noqa: S104
    group.add_argument(
        "--backoffice-user", default="backoffice", help="CN of the back office's certificate"
    )
    group.add_argument(
        "--bridge-branch",
        action="append",
        metavar="BRANCH",
        help="central broker: let this branch's bridge in (repeat per branch)",
    )


# One example per command, shown under its --help (configkit.helptext).
COMMAND_EXAMPLES = {
    "ca init": "provision ca init --dir /mnt/lapak-ca --passphrase",
    "ca issue": "provision ca issue --dir /mnt/lapak-ca --csr backoffice.csr --out backoffice.crt",
    "ca revoke": "provision ca revoke --dir /mnt/lapak-ca --name jakarta-salemba-kiosk-1 "
    "--reason key_compromise",
    "ca crl": "provision ca crl --dir /mnt/lapak-ca",
    "ca list": "provision ca list --dir /mnt/lapak-ca",
    "key": "provision key --cn backoffice --key /etc/lapak/pki/backoffice.key --csr backoffice.csr",
    "test-card": "provision test-card --out card.png",
    "device init": "provision device init --role dropbox --branch jakarta-salemba "
    "--root demo/dropbox --ca demo/ca",
    "device install-cert": "provision device install-cert --cert device.signed.crt "
    "--ca-cert ca.crt",
    "device rotate": "provision device rotate --ca /mnt/lapak-ca",
    "device show": "provision device show",
    "render": "provision render --role kiosk --root /mnt/sd --dry-run | less",
    "fleet acl": "provision fleet acl --bridge-branch jakarta-salemba --out acl",
    "config check": "provision config check --role dropbox /etc/lapak/dropbox.toml",
    "install": "sudo provision install --role dropbox --wheel "
    "lapak_asik_appliance-0.1.0-py3-none-any.whl --branch jakarta-salemba --ca /mnt/lapak-ca",
    "check": "provision check --root demo/dropbox --simulate --ca demo/ca",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="provision",
        description="Provision Lapak Asik branch devices: identities, firmware, fleet broker "
        "config and the on-device self-test.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument(
        "--ca-passphrase-fd",
        type=int,
        metavar="N",
        help="read a passphrase-protected CA key's passphrase from file descriptor N (scripts); "
        "on a terminal you are asked",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ca = sub.add_parser("ca", help="a device CA: init, issue, revoke, crl, list")
    ca_sub = ca.add_subparsers(dest="ca_command", required=True, metavar="ACTION")
    p = ca_sub.add_parser("init", help="create a CA (test benches and small deployments)")
    p.add_argument("--dir", required=True, help="directory for ca.crt, ca.key, index, CRL")
    p.add_argument("--name", default="Lapak Asik device CA", help="the CA's common name")
    p.add_argument("--days", type=int, default=3650, help="validity in days (3650)")
    p.add_argument(
        "--passphrase",
        action="store_true",
        help="encrypt the CA key with a passphrase (asked twice, or from --ca-passphrase-fd); "
        "every signing then asks for it",
    )
    p.set_defaults(func=_ca_init)
    p = ca_sub.add_parser("issue", help="sign a CSR (device, broker or bridge)")
    p.add_argument("--dir", required=True, help="the CA directory")
    p.add_argument("--csr", required=True, help="PEM certificate request")
    p.add_argument("--out", required=True, help="where to write the certificate")
    p.add_argument(
        "--server-name",
        action="append",
        metavar="NAME",
        help="make a broker (server) certificate for this DNS name or address; repeatable",
    )
    p.add_argument("--days", type=int, default=825, help="validity in days (825)")
    p.add_argument(
        "--rotate", action="store_true", help="replace the name's valid certificate, revoking it"
    )
    p.set_defaults(func=_ca_issue)
    p = ca_sub.add_parser("revoke", help="revoke a certificate and rewrite the CRL")
    p.add_argument("--dir", required=True, help="the CA directory")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--name", help="revoke every valid certificate of this id")
    which.add_argument("--serial", help="revoke one certificate by serial (hex)")
    p.add_argument(
        "--reason",
        default="unspecified",
        choices=["unspecified", "key_compromise", "superseded", "cessation_of_operation"],
    )
    p.set_defaults(func=_ca_revoke)
    p = ca_sub.add_parser("crl", help="re-sign the CRL before it expires")
    p.add_argument("--dir", required=True, help="the CA directory")
    p.add_argument("--days", type=int, default=pki.DEFAULT_CRL_DAYS, help="CRL validity, days")
    p.set_defaults(func=_ca_crl)
    p = ca_sub.add_parser("list", help="every certificate issued, with its status")
    p.add_argument("--dir", required=True, help="the CA directory")
    p.set_defaults(func=_ca_list)

    p = sub.add_parser("key", help="make a key and CSR here (for a broker or a bridge)")
    p.add_argument("--cn", required=True, help="common name, e.g. broker or bridge-jkt-01")
    p.add_argument("--key", required=True, help="private key file to create (0600)")
    p.add_argument("--csr", required=True, help="CSR file to write")
    p.set_defaults(func=_key)

    p = sub.add_parser("test-card", help="write the QR test card for the camera check (PNG)")
    p.add_argument("--out", required=True, help="PNG file to write")
    p.set_defaults(func=_test_card)

    dev = sub.add_parser("device", help="this device's identity: init, install-cert, rotate, show")
    dev_sub = dev.add_subparsers(dest="device_command", required=True, metavar="ACTION")
    p = dev_sub.add_parser(
        "init",
        help="key on the device, CSR, certificate, role config",
        description="Give this device its identity and configuration. The private key is made "
        "here (mode 0600) and never leaves the device.",
    )
    p.add_argument("--role", required=True, choices=["kiosk", "dropbox"])
    p.add_argument(
        "--branch",
        required=True,
        help="branch id: the city, then the office, e.g. jakarta-salemba (uplink/branches.toml)",
    )
    p.add_argument(
        "--id",
        help="device id, unique in the fleet (default {branch}-{role}-{n}: n is the lowest "
        "number the --ca has no valid certificate for, else 1)",
    )
    p.add_argument("--root", default="/", help="the device's root (/; a directory to simulate)")
    p.add_argument("--broker-host", default="localhost", help="the branch broker (localhost)")
    p.add_argument("--broker-port", type=int, default=8883, help="its TLS port (8883)")
    p.add_argument(
        "--plain", action="store_true", help="plain MQTT: only to a loopback broker (tests)"
    )
    p.add_argument("--ca", help="a local CA directory to sign with now (else: CSR only)")
    p.add_argument(
        "--set",
        action="append",
        metavar="TABLE.KEY=VALUE",
        help="edit the role's config, e.g. pins.beam=17 or printer.enabled=true; repeatable",
    )
    kiosk = p.add_argument_group("kiosk")
    kiosk.add_argument("--api-url", help="the back-office booking API base URL")
    kiosk.add_argument(
        "--trust-anchor",
        action="append",
        metavar="BASE64",
        help="booking root public key (`backoffice booking keygen` prints it); repeatable",
    )
    kiosk.add_argument(
        "--trust-list", help="the signed trust list (`backoffice booking trust-list --out`)"
    )
    kiosk.add_argument(
        "--branch-name",
        help="name printed on tickets (default: the branch table's, uplink/branches.toml)",
    )
    kiosk.add_argument("--kiosk-code", help="one character in ticket numbers (default: id's last)")
    kiosk.add_argument(
        "--printer",
        metavar="TRANSPORT:TARGET",
        help="usb:04b8:0e15, serial:/dev/ttyUSB0@19200, network:host:9100 or "
        "file:/dev/lapak-printer (default)",
    )
    p.set_defaults(func=_device_init)
    p = dev_sub.add_parser("install-cert", help="install the certificate signed for this device")
    p.add_argument("--root", default="/", help="the device's root (/)")
    p.add_argument("--cert", required=True, help="the signed certificate (PEM)")
    p.add_argument("--ca-cert", required=True, help="the CA certificate (PEM)")
    p.set_defaults(func=_device_install_cert)
    p = dev_sub.add_parser("rotate", help="new key and certificate; the old one is revoked")
    p.add_argument("--root", default="/", help="the device's root (/)")
    p.add_argument("--ca", help="a local CA directory (else: CSR only)")
    p.set_defaults(func=_device_rotate)
    p = dev_sub.add_parser("show", help="who this device is")
    p.add_argument("--root", default="/", help="the device's root (/)")
    p.set_defaults(func=_device_show)

    p = sub.add_parser(
        "render",
        help="render firmware_config into a root (SD card or /)",
        description="Render boot settings, systemd units, udev rules, journald limits and the "
        "kiosk session (or the broker config) into ROOT. Idempotent: a second run changes "
        "nothing. --dry-run shows the diff without writing.",
    )
    p.add_argument("--role", required=True, choices=list(render.ROLES))
    p.add_argument("--root", required=True, help="target root: / or a mounted SD card")
    p.add_argument("--dry-run", action="store_true", help="show what would change, with diffs")
    p.add_argument("--venv", default=str(render.DEFAULT_VENV), help="the app venv on the target")
    p.add_argument(
        "--rotation", type=int, default=0, choices=[0, 90, 180, 270], help="kiosk display"
    )
    p.add_argument(
        "--read-only-root", action="store_true", help="overlay root + persistent data partition"
    )
    p.add_argument("--data-label", default="lapak-data", help="data partition label")
    p.add_argument(
        "--local",
        action="store_true",
        help="paths inside files point into ROOT (a local test broker); never for an SD card",
    )
    _broker_options(p)
    p.add_argument("--branch", help="broker: this branch broker's id (for the bridge)")
    p.add_argument("--central-host", help="broker: bridge to this central broker")
    p.add_argument("--central-port", type=int, default=8883, help="central broker TLS port")
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

    fleet = sub.add_parser("fleet", help="fleet-wide broker configuration")
    fleet_sub = fleet.add_subparsers(dest="fleet_command", required=True, metavar="ACTION")
    p = fleet_sub.add_parser(
        "acl", help="the central broker's access rules (dynamic security) and listener config"
    )
    _broker_options(p)
    p.add_argument(
        "--ca",
        help="admit the active client certificates of this CA directory (re-run after "
        "issuing one, then restart the broker)",
    )
    p.add_argument(
        "--out", help="write dynamic-security.json and mosquitto.conf here instead of stdout"
    )
    p.set_defaults(func=_fleet_acl)

    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    p = config_sub.add_parser("check", help="validate a device's TOML file for its role")
    p.add_argument("--role", required=True, choices=sorted(roles.MODELS), help="device role")
    p.add_argument("file", help="the TOML file, e.g. /etc/lapak/kiosk.toml")
    p.set_defaults(func=lambda args: check_command(roles.model(args.role), args.file))

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
    p.add_argument("--role", required=True, choices=["kiosk", "dropbox", "branch-broker"])
    p.add_argument("--root", default="/", help="the device's root (/; a folder to rehearse)")
    p.add_argument("--wheel", help="the project's wheel (`pip wheel --no-deps -w dist .`)")
    p.add_argument(
        "--no-reboot", action="store_true", help="stay up after a green check (default: reboot)"
    )
    p.add_argument("--venv", default=str(render.DEFAULT_VENV), help="the app venv (%(default)s)")
    p.add_argument("--branch", required=True, help="branch id, e.g. jakarta-salemba")
    p.add_argument("--ca", help="the fleet CA directory (the USB stick) to sign with")
    device_options = p.add_argument_group("kiosk and dropbox (as `device init`)")
    device_options.add_argument("--id", help="device id (default {branch}-{role}-{n})")
    device_options.add_argument(
        "--broker-host", default="localhost", help="the branch broker (localhost)"
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
    broker_options.add_argument("--central-host", help="bridge to this central broker")
    broker_options.add_argument(
        "--central-port", type=int, default=8883, help="central broker TLS port"
    )
    p.set_defaults(func=_install)

    p = sub.add_parser(
        "check",
        help="self-test with a pass/fail table",
        description="Test this device: every adapter, camera frame, QR test card, thermometer, "
        "printer, GPIO inputs, clock, broker over TLS with this device's certificate, a "
        "back-office ack, and the backend API. Exit 1 if anything failed.",
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
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per network wait (10)")
    p.set_defaults(func=_check)
    teach(parser, COMMAND_EXAMPLES)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    pki.passphrase_source = _passphrase_source(args.ca_passphrase_fd)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except ConfigError as exc:
        for problem in exc.problems:
            errors.print(str(problem), markup=False, highlight=False)
        return EXIT_USAGE
    except Refused as exc:
        errors.print(f"refused: {exc}", markup=False, highlight=False)
        return EXIT_REFUSED
    except InvalidSetup as exc:
        errors.print(f"error: {exc}", markup=False, highlight=False)
        return EXIT_USAGE
    except ProvisionError as exc:
        errors.print(f"error: {exc}", markup=False, highlight=False)
        return EXIT_FAILED
    except PermissionError as exc:
        errors.print(f"error: {exc}; on a device, run provision with sudo", markup=False)
        return EXIT_FAILED
    except OSError as exc:
        errors.print(f"error: {exc}", markup=False, highlight=False)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
