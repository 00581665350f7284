"""A device's identity and configuration: key made on the device, CSR, certificate, role config."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from pydantic import BaseModel, Field

from configkit import ConfigError, ConfigModel, dump_toml, load, parse
from provisioning import access, pki, roles
from provisioning.errors import InvalidSetup, Refused
from provisioning.render import ETC, STATE_ROOT, RenderError, Target
from uplink import UplinkConfig
from uplink.branches import BranchIdError, known_branch
from uplink.config import is_loopback
from uplink.errors import TopicError
from uplink.topics import check_id

logger = logging.getLogger(__name__)

DeviceRole = Literal["kiosk", "dropbox"]
SERVICE_USER = "lapak"
Step = Callable[[str], None]


class DeviceRecord(ConfigModel):
    """/etc/lapak/device.toml: who this device is, written once by `provision device init`."""

    role: DeviceRole = Field(description="What the device is: kiosk or dropbox.")
    device_id: str = Field(description="The device id; its certificate's CN.")
    branch: str = Field(description="The branch office id.")
    config_file: Path = Field(description="The role's config file.")
    provisioned_at: str = Field(description="When `device init` ran (UTC, ISO 8601).")


@dataclass(frozen=True)
class Layout:
    """Where a device's files are, under `root` (`/` on the device, a temp dir in simulation).

    Paths written into config files are the real paths under `root`, so a simulated device
    runs from its directory as is.
    """

    root: Path

    def _at(self, path: PurePosixPath) -> Path:
        return Target(self.root, local=True).host(path)

    @property
    def etc(self) -> Path:
        return self._at(ETC)

    @property
    def record_file(self) -> Path:
        return self.etc / "device.toml"

    @property
    def pki_dir(self) -> Path:
        return self.etc / "pki"

    @property
    def key_file(self) -> Path:
        return self.pki_dir / "device.key"

    @property
    def new_key_file(self) -> Path:
        return self.pki_dir / "device.key.new"

    @property
    def csr_file(self) -> Path:
        return self.pki_dir / "device.csr"

    @property
    def cert_file(self) -> Path:
        return self.pki_dir / "device.crt"

    @property
    def ca_file(self) -> Path:
        return self.pki_dir / "ca.crt"

    def config_file(self, role: str) -> Path:
        return self.etc / f"{role}.toml"

    def state_dir(self, role: str) -> Path:
        return self._at(STATE_ROOT / role)


@dataclass(frozen=True)
class BrokerTarget:
    """Where the device's broker is."""

    host: str = "localhost"
    port: int = 8883
    tls: bool = True


def init(
    layout: Layout,
    *,
    role: DeviceRole,
    device_id: str,
    branch: str,
    broker: BrokerTarget,
    ca: pki.CADirectory | None = None,
    api_url: str | None = None,
    extra: Mapping[str, Any] | None = None,
    overrides: Sequence[str] = (),
    step: Step = lambda _s: None,
) -> DeviceRecord:
    """Give this device its identity and config (`provision device init`).

    The private key is generated here and written 0600; a CSR goes to the CA (`ca`, when it is
    local) or is left for the agency's PKI; the role's config is written from the role's model.

    Args:
        layout: where the device's files go (`/` on the device).
        role: kiosk or dropbox.
        device_id: the device's id, its certificate's CN and MQTT identity (`[a-z0-9-]`).
        branch: the branch id (`[a-z0-9-]`).
        broker: the branch broker the device talks to.
        ca: a local CA to sign with now; None leaves a CSR for the agency's PKI.
        api_url: the backend API (kiosk booking API).
        extra: role options (trust_anchors, trust_list, branch_name, kiosk_code, printer).
        overrides: `table.key=value` edits of the role's config, applied last.
        step: told about each long step (progress).

    Raises:
        Refused: unsafe or reserved id (`access.check_device_id`), plain MQTT off loopback,
            already provisioned, or duplicate identity.
        InvalidSetup: the options would make a config the role's model rejects.
    """
    try:
        check_id(device_id)
        known_branch(branch)  # in the branch table, as the back office's bookings are
        access.check_device_id(device_id)
    except (TopicError, BranchIdError, access.ReservedIdentity) as exc:
        raise Refused(str(exc)) from None
    if not broker.tls and not is_loopback(broker.host):
        raise Refused(
            f"plain MQTT to {broker.host!r} is refused: the device's events would cross the "
            "network in clear; drop --plain (TLS with this device's certificate)"
        )
    if layout.record_file.exists():
        current = load(DeviceRecord, layout.record_file)
        raise Refused(
            f"this device is already provisioned as {current.device_id!r} ({current.role}, "
            f"branch {current.branch}) in {layout.record_file}; to renew its certificate use "
            "`provision device rotate`; to re-provision it, revoke that identity at the CA and "
            f"remove {layout.etc}"
        )
    if ca is not None and ca.active(device_id):
        raise pki.DuplicateIdentity(
            f"the CA already has a valid certificate for {device_id!r}: another device has this "
            "id. Choose another --id (or leave it out: the next free number is taken), or revoke "
            f"the old one first (`provision ca revoke --dir {ca.directory} --name {device_id}`)"
        )

    # Build and validate the config first: a refusal must leave no key and no CA entry behind.
    state_dir = layout.state_dir(role)
    try:
        # configkit's parse: one problem per line in config check's words, not pydantic's text.
        uplink = parse(
            UplinkConfig,
            {
                "device_id": device_id,
                "broker": {
                    "host": broker.host,
                    "port": broker.port,
                    "tls": broker.tls,
                    "ca_file": layout.ca_file if broker.tls else None,
                    "cert_file": layout.cert_file if broker.tls else None,
                    "key_file": layout.key_file if broker.tls else None,
                    "username": None if broker.tls else device_id,
                },
                "outbox_path": state_dir / "outbox.db",
            },
            source="--broker-host/--broker-port",
        )
    except ConfigError as exc:
        problems = "; ".join(str(p) for p in exc.problems)
        raise InvalidSetup(f"the broker settings are invalid: {problems}") from None
    setup = roles.Setup(
        device_id, branch, uplink, state_dir, layout.etc, api_url, dict(extra or {}), (*overrides,),
        client_tls=(layout.ca_file, layout.cert_file, layout.key_file),
    )  # fmt: skip
    config = roles.build_config(role, setup)
    files = roles.role_files(role, config, dict(extra or {}))  # refused before any key is made

    step("generating the private key on this device (P-256, mode 0600)")
    key = pki.new_key()
    pki.write_key(layout.key_file, key)
    csr = pki.make_csr(key, device_id, role=role, branch=branch)
    pki.write_csr(layout.csr_file, csr)
    if ca is not None:
        step(f"signing the CSR with the CA in {ca.directory}")
        cert = ca.issue(csr)
        pki.write_cert(layout.cert_file, cert)
        pki.write_cert(layout.ca_file, ca.ca.cert)
    else:
        step(f"CSR written to {layout.csr_file}: have it signed, then run `device install-cert`")

    step(f"writing the {role} configuration")
    state_dir.mkdir(parents=True, exist_ok=True)
    roles.install_files(files)
    config_file = layout.config_file(role)
    _write_config(config_file, config)
    record = DeviceRecord(
        role=role,
        device_id=device_id,
        branch=branch,
        config_file=config_file,
        provisioned_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    _write_config(layout.record_file, record)
    _give_to_service_user(layout, [layout.key_file, config_file])
    return record


def install_cert(layout: Layout, cert_file: Path, ca_cert_file: Path) -> str:
    """Install a certificate signed for this device's key (or for a pending rotated key).

    Returns:
        "installed" or "rotated" (the pending key replaced the old one).

    Raises:
        Refused: the certificate is for another key or another id.
    """
    record = load(DeviceRecord, layout.record_file)
    cert = pki.load_cert(cert_file)
    ca_cert = pki.load_cert(ca_cert_file)
    name = pki.common_name(cert.subject)
    if name != record.device_id:
        raise Refused(f"{cert_file} is for {name!r}; this device is {record.device_id!r}")
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise Refused(f"{cert_file} was not signed by {ca_cert_file} ({exc})") from None
    rotated = False
    if layout.new_key_file.exists() and pki.same_public_key(
        cert, pki.load_key(layout.new_key_file)
    ):
        os.replace(layout.new_key_file, layout.key_file)
        rotated = True
    elif not pki.same_public_key(cert, pki.load_key(layout.key_file)):
        raise Refused(
            f"{cert_file} does not certify this device's key; sign the CSR in {layout.csr_file}"
        )
    _check_names(layout, record, cert_file, cert)
    pki.write_cert(layout.cert_file, cert)
    pki.write_cert(layout.ca_file, ca_cert)
    return "rotated" if rotated else "installed"


def _check_names(
    layout: Layout, record: DeviceRecord, cert_file: Path, cert: x509.Certificate
) -> None:
    """Refuse a certificate naming another role or branch than this device's (a certificate
    naming neither is taken: the registry export leaves it out, and says so)."""
    try:
        role, branch = pki.device_identity(cert.subject)
    except pki.PkiError as exc:
        raise Refused(f"{cert_file}: {exc}") from None
    if (role is not None and role != record.role) or (
        branch is not None and branch != record.branch
    ):
        raise Refused(
            f"{cert_file} names role {role!r} at branch {branch!r}; this device is a "
            f"{record.role} at {record.branch}: have the CSR in {layout.csr_file} signed as it is"
        )


def rotate(layout: Layout, ca: pki.CADirectory | None, step: Step = lambda _s: None) -> str:
    """Make a new key and CSR; with a local CA, sign, install and revoke the old certificate.

    Returns:
        "rotated" when done, "pending" when the CSR waits for the agency's PKI.
    """
    record = load(DeviceRecord, layout.record_file)
    step("generating a new private key on this device")
    key = pki.new_key()
    pki.write_key(layout.new_key_file, key)
    csr = pki.make_csr(key, record.device_id, role=record.role, branch=record.branch)
    pki.write_csr(layout.csr_file, csr)
    if ca is None:
        step(f"CSR written to {layout.csr_file}: have it signed, then run `device install-cert`")
        return "pending"
    step("signing with the local CA and revoking the superseded certificate")
    cert = ca.issue(csr, rotate=True)
    os.replace(layout.new_key_file, layout.key_file)
    pki.write_cert(layout.cert_file, cert)
    pki.write_cert(layout.ca_file, ca.ca.cert)
    _give_to_service_user(layout, [layout.key_file])
    return "rotated"


def load_record(layout: Layout) -> DeviceRecord:
    """This device's record (raises ConfigError with a fix when it was never provisioned)."""
    return load(DeviceRecord, layout.record_file)


def _write_config(path: Path, model: BaseModel) -> None:
    """Write a model as TOML and prove it loads back (so a device never gets a bad file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(dump_toml(model))
    load(type(model), tmp)
    tmp.replace(path)


def _give_to_service_user(layout: Layout, paths: list[Path]) -> None:
    """On a real device (root `/`, run as root), let the service account read its files."""
    if layout.root != Path("/") or os.geteuid() != 0:
        return
    target = Target(layout.root)
    try:
        uid, gid = target.uid(SERVICE_USER), target.gid(SERVICE_USER)
    except RenderError:  # the account is made by `provision render` + systemd-sysusers
        logger.warning(
            "no %s account yet: run `provision render` and `systemd-sysusers`, then "
            "`chown %s` the key and config",
            SERVICE_USER,
            SERVICE_USER,
        )
        return
    for path in paths:
        os.chown(path, uid, gid)
