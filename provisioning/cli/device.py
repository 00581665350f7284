"""`provision device ...`: this device's identity (key, certificate, role config)."""

from __future__ import annotations

import argparse
from pathlib import Path

from provisioning import device, names, pki
from provisioning.cli.output import EXIT_OK, console

EXAMPLES = {
    "device init": "provision device init --role dropbox --branch jakarta-salemba "
    "--root demo/dropbox --ca demo/ca",
    "device install-cert": "provision device install-cert --cert device.signed.crt "
    "--ca-cert ca.crt",
    "device rotate": "provision device rotate --ca /mnt/lapak-ca",
    "device show": "provision device show",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `device init|install-cert|rotate|show` to the tool's commands."""
    dev = sub.add_parser("device", help="this device's identity: init, install-cert, rotate, show")
    dev_sub = dev.add_subparsers(dest="device_command", required=True, metavar="ACTION")
    p = dev_sub.add_parser(
        "init",
        help="key on the device, CSR, certificate, role config",
        description="Give this device its identity and configuration. The private key is made "
        "here (mode 0600) and never leaves the device.",
    )
    p.add_argument("--role", required=True, choices=["kiosk", "dropbox"], help="device role")
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


def _device_init(args: argparse.Namespace) -> int:
    # Absolute: the config written holds paths that work from any working directory.
    layout = device.Layout(Path(args.root).resolve())
    ca = pki.CADirectory(Path(args.ca)) if args.ca else None

    def step(text: str) -> None:
        console.print(f"  {text}")

    names.known(args.branch)
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
