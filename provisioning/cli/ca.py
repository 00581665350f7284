"""`provision ca ...` and `provision key`: the fleet CA and keys made where they are used."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import sys
from pathlib import Path

from rich.table import Table

from configkit.expiry import assess, assess_crl
from provisioning import expiry, pki
from provisioning.cli.output import EXIT_OK, console
from provisioning.errors import InvalidSetup, Refused
from uplink.errors import TopicError

EXAMPLES = {
    "ca init": "provision ca init --dir /mnt/lapak-ca --passphrase",
    "ca issue": "provision ca issue --dir /mnt/lapak-ca --csr backoffice.csr --out backoffice.crt",
    "ca revoke": "provision ca revoke --dir /mnt/lapak-ca --name jakarta-salemba-kiosk-1 "
    "--reason key_compromise",
    "ca crl": "provision ca crl --dir /mnt/lapak-ca",
    "ca list": "provision ca list --dir /mnt/lapak-ca",
    "key": "provision key --cn backoffice --key /etc/lapak/pki/backoffice.key --csr backoffice.csr",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `ca init|issue|revoke|crl|list` and `key` to the tool's commands."""
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
        help="why, as the CRL records it (key_compromise for a lost or stolen device)",
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
    p.add_argument("--cn", required=True, help="common name, e.g. broker or bridge-jakarta-salemba")
    p.add_argument("--key", required=True, help="private key file to create (0600)")
    p.add_argument("--csr", required=True, help="CSR file to write")
    p.set_defaults(func=_key)


MAX_PASSPHRASE = 4096  # bytes: a passphrase, not a file


def passphrase_source(fd: int | None) -> pki.PassphraseSource | None:
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
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= MAX_PASSPHRASE and (chunk := os.read(fd, 4096)):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:  # it said only "[Errno 9] Bad file descriptor"
        raise InvalidSetup(
            f"--ca-passphrase-fd {fd}: cannot read it ({exc.strerror}); open it in the calling "
            f"shell, e.g. provision --ca-passphrase-fd 3 ... 3< passphrase.txt"
        ) from None
    if size > MAX_PASSPHRASE:  # /dev/zero on the descriptor was read until memory ran out
        raise InvalidSetup(f"--ca-passphrase-fd {fd}: more than {MAX_PASSPHRASE} bytes to read")
    passphrase = b"".join(chunks).rstrip(b"\r\n")
    if not passphrase:
        raise InvalidSetup(f"--ca-passphrase-fd {fd}: nothing to read (an empty passphrase)")
    return passphrase


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
        "(`systemctl restart mosquitto`): the broker reads the CRL when it starts. Copy it to "
        "the booking API's api.client_crl_file too (read there on the next connection)."
    )
    return EXIT_OK


def _ca_crl(args: argparse.Namespace) -> int:
    ca = pki.CADirectory(Path(args.dir))
    path = ca.write_crl(days=args.days)
    console.print(
        f"CRL renewed for {args.days} days: {path}. Copy it to each broker's crlfile "
        "(/etc/mosquitto/lapak/crl.pem) and restart mosquitto before the old one's next update, "
        "and to the booking API's api.client_crl_file."
    )
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
    now = dt.datetime.now(dt.UTC)
    crl_next = pki.load_crl(ca.crl_file).next_update_utc
    dues = [assess("CA certificate", ca.ca.cert.not_valid_after_utc, now, expiry.RENEW_CA)]
    if crl_next is not None:
        renew = f"`provision ca crl --dir {args.dir}`, then copy it to every broker and restart "
        dues.append(assess_crl("CRL", crl_next, now, renew + "mosquitto"))
    for due in dues:
        mark = {"pass": "", "warn": "[bold yellow]warning:[/] ", "fail": "[bold red]FAIL:[/] "}
        console.print(f"{mark[due.status]}{due.detail}" + (f" → {due.fix}" if due.fix else ""))
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
