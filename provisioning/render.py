"""Render firmware_config into a target root: files, symlinks, owners and modes, idempotently."""

from __future__ import annotations

import difflib
import grp
import logging
import os
import pwd
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature

import firmware_config
from configkit import layout
from provisioning import access, pki
from provisioning.errors import ProvisionError, Refused
from uplink.errors import TopicError
from uplink.topics import check_id

logger = logging.getLogger(__name__)

Role = Literal["kiosk", "dropbox", "backoffice", "broker"]
ROLES: tuple[Role, ...] = ("kiosk", "dropbox", "backoffice", "broker")
DEVICE_ROLES: tuple[Role, ...] = ("kiosk", "dropbox")

# The one layout (configkit.layout): re-exported here for provisioning's modules.
ETC = layout.ETC
STATE_ROOT = layout.STATE_ROOT
BOOT_DIR = PurePosixPath("/boot/firmware")
UNIT_DIR = PurePosixPath("/etc/systemd/system")
MOSQUITTO_DIR = PurePosixPath("/etc/mosquitto")
BROKER_PKI = MOSQUITTO_DIR / "lapak"
DYNSEC_FILE = "dynamic-security.json"
DEFAULT_VENV = PurePosixPath("/opt/lapak/venv")
BOOT_INCLUDE = "include lapak.txt"


class RenderError(ProvisionError):
    """A render cannot proceed; the message says what to change."""


@dataclass(frozen=True)
class RenderOptions:
    """Everything a role's rendering depends on besides the templates."""

    venv: PurePosixPath = DEFAULT_VENV
    user: str = "lapak"
    rotation_deg: int = 0
    read_only_root: bool = False
    data_label: str = "lapak-data"
    # Broker role.
    tls_port: int = 8883
    bind_address: str = "0.0.0.0"  # noqa: S104 - the branch broker serves the LAN
    backoffice_user: str = "backoffice"
    branch: str | None = None
    central_host: str | None = None
    central_port: int = 8883
    bridge_devices: tuple[str, ...] = ()
    bridge_branches: tuple[str, ...] = ()
    # The client identities (certificate CNs) the broker admits besides the back office and the
    # bridges: the CA's active client certificates (`--ca`). Any other certificate gets no rights.
    identities: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.rotation_deg not in (0, 90, 180, 270):
            raise RenderError(f"rotation {self.rotation_deg} is not one of 0, 90, 180, 270")
        try:
            for name in (self.branch, *self.bridge_branches):
                if name is not None:
                    check_id(name, "branch id")
            for device in self.bridge_devices:
                check_id(device)
        except TopicError as exc:
            raise Refused(str(exc)) from None
        if access.kind_of(self.backoffice_user) != "backoffice":
            raise Refused(
                f"back-office identity {self.backoffice_user!r}: it must be 'backoffice' or "
                "start with 'backoffice-' (the name is what the broker's roles match on)"
            )
        if self.central_host and not self.branch:
            raise RenderError("a bridge to the central broker needs --branch (the bridge's name)")


@dataclass(frozen=True)
class Entry:
    """One thing to put in the target root: a file, a directory or a symlink."""

    path: PurePosixPath
    # "present": a file made elsewhere (a key, a certificate): only its mode and owner are managed.
    kind: Literal["file", "dir", "symlink", "present"] = "file"
    content: str = ""
    mode: int | None = 0o644  # None: leave it to the file system (FAT has none)
    owner: str = "root"
    group: str = "root"
    # Only for kind == "file": keep the file as it is, and append `content` as a block unless
    # its last line is already there.
    ensure_lines: bool = False


@dataclass
class Change:
    """What applying one entry did (or, in a dry run, would do)."""

    entry: Entry
    actions: list[str] = field(default_factory=list)
    diff: str = ""
    # Set when the entry cannot be satisfied by rendering (a key or certificate is missing).
    missing: str = ""


class Target:
    """A root file system being rendered into (a mounted SD card, a temp dir or `/`).

    With `local=True` the paths written *inside* files point into the root (for a local
    simulated branch and tests); otherwise they are the paths the device will see.
    """

    def __init__(self, root: Path, *, local: bool = False) -> None:
        self.root = root
        self.local = local

    def host(self, path: PurePosixPath) -> Path:
        """Where `path` of the target lives on this machine."""
        return self.root / path.relative_to("/")

    def ref(self, path: PurePosixPath) -> str:
        """How files inside the target refer to `path`."""
        return str(self.host(path)) if self.local else str(path)

    def uid(self, name: str) -> int:
        return _lookup_id(self.root / "etc/passwd", name, pwd.getpwnam, "user")

    def gid(self, name: str) -> int:
        return _lookup_id(self.root / "etc/group", name, grp.getgrnam, "group")


def config_path(role: Role) -> PurePosixPath:
    """The role's config file on the device."""
    return ETC / f"{role}.toml"


def plan(role: Role, target: Target, options: RenderOptions) -> list[Entry]:
    """Every entry `role` needs, in the order they are applied."""
    if role not in ROLES:
        raise RenderError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if role == "broker":
        return _broker(target, options)
    entries = [
        Entry(ETC, kind="dir", mode=0o755),
        Entry(
            PurePosixPath("/etc/sysusers.d/lapak.conf"),
            content=firmware_config.render(
                "system/sysusers.conf.tmpl", user=options.user, state_root=STATE_ROOT
            ),
        ),
        Entry(
            PurePosixPath("/etc/systemd/journald.conf.d/lapak.conf"),
            content=firmware_config.render(
                "system/journald.conf.tmpl",
                # On a read-only root the journal would fill the RAM overlay: keep it in RAM,
                # bounded, and let the apps' events carry what must survive.
                storage="volatile" if options.read_only_root else "persistent",
            ),
        ),
        _unit(role, target, options),
        _enable(role, "graphical.target" if role == "kiosk" else "multi-user.target"),
    ]
    if role == "backoffice":
        # The booking API beside the receiver; its unit starts only where booking.toml is.
        entries += [
            _unit(role, target, options, name="booking-api", config="booking"),
            _enable("booking-api", "multi-user.target"),
        ]
    if role in DEVICE_ROLES:
        entries += _device_common(role, options)
    if role == "kiosk":
        entries += _kiosk_session()
    return entries


def apply(entries: Iterable[Entry], target: Target, *, dry_run: bool = False) -> list[Change]:
    """Bring the target in line with `entries`.

    Returns:
        What changed or would change, and any `present` file that is missing (its `missing`
        says how to provide it). A second run returns nothing once those files exist.
    """
    changes = []
    for entry in entries:
        change = _apply_one(entry, target, dry_run=dry_run)
        if change.actions or change.missing:
            changes.append(change)
    return changes


# -- roles ----------------------------------------------------------------------------------


def _hardening() -> str:
    return firmware_config.files().joinpath("systemd/hardening.inc").read_text().rstrip("\n")


def _unit(
    role: Role,
    target: Target,
    options: RenderOptions,
    *,
    name: str | None = None,
    config: str | None = None,
) -> Entry:
    """The role's service unit (or another of its services: `name`, reading `config`.toml)."""
    name = f"lapak-{name or role}.service"
    cage_flags = "-r " * (options.rotation_deg // 90)
    config_file = config_path(role) if config is None else ETC / f"{config}.toml"
    content = firmware_config.render(
        f"systemd/{name}.tmpl",
        venv=options.venv,
        user=options.user,
        config_file=target.ref(config_file),
        state_root=STATE_ROOT,
        cage_flags=cage_flags,
        hardening=_hardening(),
    )
    return Entry(UNIT_DIR / name, content=content)


def _enable(unit: str, wanted_by: str) -> Entry:
    name = unit if "." in unit else f"lapak-{unit}.service"
    return Entry(
        UNIT_DIR / f"{wanted_by}.wants" / name, kind="symlink", content=str(UNIT_DIR / name)
    )


def _mask(unit: str) -> Entry:
    return Entry(UNIT_DIR / unit, kind="symlink", content="/dev/null")


def _device_common(role: Role, options: RenderOptions) -> list[Entry]:
    fragment = firmware_config.render(
        "boot/lapak.txt.tmpl",
        role=role,
        role_settings=firmware_config.files().joinpath(f"boot/{role}.txt").read_text(),
    )
    entries = [
        Entry(BOOT_DIR / "lapak.txt", content=fragment, mode=None),
        # config.txt belongs to the OS image: only make sure it includes our fragment, from an
        # [all] section (a line under [cm4] or [pi4] would apply to that board only).
        Entry(
            BOOT_DIR / "config.txt",
            content=f"[all]\n{BOOT_INCLUDE}\n",
            mode=None,
            ensure_lines=True,
        ),
        Entry(
            PurePosixPath("/etc/systemd/system.conf.d/lapak-watchdog.conf"),
            content=_data("system/lapak-watchdog.conf"),
        ),
        Entry(
            PurePosixPath("/etc/udev/rules.d/60-lapak-escpos.rules"),
            content=_data("udev/60-lapak-escpos.rules"),
        ),
    ]
    if options.read_only_root:
        content = firmware_config.render(
            "systemd/var-lib-lapak.mount.tmpl", data_label=options.data_label
        )
        entries += [
            Entry(UNIT_DIR / "var-lib-lapak.mount", content=content),
            _enable("var-lib-lapak.mount", "local-fs.target"),
        ]
    return entries


def _kiosk_session() -> list[Entry]:
    return [
        Entry(
            PurePosixPath("/etc/systemd/logind.conf.d/lapak-kiosk.conf"),
            content=_data("kiosk/logind.conf"),
        ),
        Entry(
            PurePosixPath("/etc/sysctl.d/60-lapak-kiosk.conf"), content=_data("kiosk/sysctl.conf")
        ),
        # Pi OS Lite boots to multi-user.target; the kiosk session belongs to graphical.target.
        Entry(
            UNIT_DIR / "default.target",
            kind="symlink",
            content="/lib/systemd/system/graphical.target",
        ),
        # No escape from the kiosk: no login prompt on its console, no Ctrl+Alt+Del reboot.
        _mask("getty@tty1.service"),
        _mask("ctrl-alt-del.target"),
    ]


def broker_files(target: Target) -> dict[str, str]:
    """Where the broker's identity files live, as the broker's config refers to them."""
    return {
        "ca_file": target.ref(BROKER_PKI / "ca.crt"),
        "cert_file": target.ref(BROKER_PKI / "server.crt"),
        "key_file": target.ref(BROKER_PKI / "server.key"),
        "crl_file": target.ref(BROKER_PKI / "crl.pem"),
        "bridge_cert_file": target.ref(BROKER_PKI / "bridge.crt"),
        "bridge_key_file": target.ref(BROKER_PKI / "bridge.key"),
    }


def broker_identities(options: RenderOptions) -> list[str]:
    """Every identity the broker admits: the fleet's (from the CA), the back office, bridges."""
    bridges = [f"bridge-{branch}" for branch in options.bridge_branches]
    return sorted({*options.identities, options.backoffice_user, *bridges})


def dynsec_text(options: RenderOptions) -> str:
    """The dynamic-security plugin's file: each admitted identity with the roles of its kind."""
    return access.dynsec_json(broker_identities(options))


def broker_conf_text(target: Target, options: RenderOptions) -> str:
    """mosquitto.conf for a central or branch broker (TLS only, CRL, ACL, optional bridge)."""
    files = broker_files(target)
    text = firmware_config.render(
        "mosquitto/mosquitto.conf.tmpl",
        allow_anonymous="false",
        dynsec_plugin=access.dynsec_plugin_path(),
        dynsec_file=target.ref(BROKER_PKI / DYNSEC_FILE),
        data_dir=target.ref(PurePosixPath("/var/lib/mosquitto")),
        log_file=target.ref(PurePosixPath("/var/log/mosquitto/mosquitto.log")),
        tls_port=options.tls_port,
        bind_address=options.bind_address,
        ca_file=files["ca_file"],
        cert_file=files["cert_file"],
        key_file=files["key_file"],
        crl_line=f"crlfile {files['crl_file']}",
        plain_listener="",
    )
    if options.central_host:
        if options.bridge_devices:
            inbound = "\n".join(
                f"topic lapak/v1/dev/{d}/ack in 1\ntopic lapak/v1/dev/{d}/cmd/# in 1"
                for d in options.bridge_devices
            )
        else:
            inbound = "topic lapak/v1/dev/+/ack in 1\ntopic lapak/v1/dev/+/cmd/# in 1"
        text += firmware_config.render(
            "mosquitto/bridge.conf.tmpl",
            branch=options.branch,
            central_host=options.central_host,
            central_port=options.central_port,
            ca_file=files["ca_file"],
            bridge_cert_file=files["bridge_cert_file"],
            bridge_key_file=files["bridge_key_file"],
            inbound_topics=inbound,
        )
    return text


def _broker(target: Target, options: RenderOptions) -> list[Entry]:
    # mosquitto reads its files as the `mosquitto` user once it has dropped root.
    def readable(name: str, mode: int, hint: str) -> Entry:
        return Entry(BROKER_PKI / name, kind="present", mode=mode, group="mosquitto", content=hint)

    issue = "`provision render --role broker --ca DIR --server-name NAME` or copy it in"
    entries = [
        Entry(BROKER_PKI, kind="dir", mode=0o750, group="mosquitto"),
        Entry(MOSQUITTO_DIR / "mosquitto.conf", content=broker_conf_text(target, options)),
        Entry(
            BROKER_PKI / DYNSEC_FILE, content=dynsec_text(options), mode=0o640, group="mosquitto"
        ),
        readable("ca.crt", 0o644, issue),
        readable("server.crt", 0o644, issue),
        readable("server.key", 0o640, issue),
        readable("crl.pem", 0o644, "copy crl.pem from the CA directory"),
        Entry(PurePosixPath("/var/lib/mosquitto"), kind="dir", mode=0o750, owner="mosquitto"),
        Entry(PurePosixPath("/var/log/mosquitto"), kind="dir", mode=0o750, owner="mosquitto"),
    ]
    if options.central_host:
        bridge = (
            "render with --ca CA_DIR (the fleet CA issues it), or `provision key --cn "
            f"bridge-{options.branch}` + `provision ca issue`"
        )
        entries += [readable("bridge.crt", 0o644, bridge), readable("bridge.key", 0o640, bridge)]
    return entries


def install_broker_identity(
    target: Target,
    ca: pki.CADirectory,
    server_names: list[str],
    *,
    bridge_branch: str | None = None,
) -> bool:
    """Give the broker its key (made here), a server certificate from `ca`, the CA and CRL;
    with `bridge_branch`, also the bridge's client certificate (CN `bridge-{branch}`), so a
    branch broker bridged to head office needs no separate `provision key` and `ca issue`.

    Idempotent: an existing key with a valid certificate from this CA is kept.

    Returns:
        True when something was (re)issued.
    """
    directory = target.host(BROKER_PKI)
    ca_file, crl_file = directory / "ca.crt", directory / "crl.pem"
    issued = _install_identity(directory, "server", server_names[0], ca, server_names)
    if bridge_branch is not None:
        issued |= _install_identity(directory, "bridge", f"bridge-{bridge_branch}", ca, None)
    if not ca_file.exists() or ca_file.read_bytes() != ca.cert_file.read_bytes():
        pki.write_cert(ca_file, ca.ca.cert)
    if not crl_file.exists() or crl_file.read_bytes() != ca.crl_file.read_bytes():
        crl_file.write_bytes(ca.crl_file.read_bytes())
    return issued


def _install_identity(
    directory: Path, stem: str, name: str, ca: pki.CADirectory, server_names: list[str] | None
) -> bool:
    """`stem`.key (made here) and `stem`.crt for `name` from `ca`, unless a valid pair is there."""
    key_file, cert_file = directory / f"{stem}.key", directory / f"{stem}.crt"
    if key_file.exists() and cert_file.exists() and _signed_by(cert_file, ca, key_file):
        return False
    key = pki.new_key()
    pki.write_key(key_file, key)
    # Replacing our own certificate revokes it; another broker's of the same name is refused.
    cert = ca.issue(pki.make_csr(key, name), server_names=server_names, rotate=cert_file.exists())
    pki.write_cert(cert_file, cert)
    return True


def _signed_by(cert_file: Path, ca: pki.CADirectory, key_file: Path) -> bool:
    cert = pki.load_cert(cert_file)
    if not pki.same_public_key(cert, pki.load_key(key_file)):
        return False
    try:
        cert.verify_directly_issued_by(ca.ca.cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return cert.not_valid_after_utc > datetime.now(UTC) + timedelta(days=30)


def _data(relative: str) -> str:
    return firmware_config.files().joinpath(relative).read_text()


# -- applying -------------------------------------------------------------------------------


def _apply_one(entry: Entry, target: Target, *, dry_run: bool) -> Change:
    path = target.host(entry.path)
    change = Change(entry)
    if entry.kind == "present":
        if not path.exists():
            change.missing = entry.content
            return change
    elif entry.kind == "dir":
        if not path.is_dir():
            change.actions.append("create directory")
            if not dry_run:
                path.mkdir(parents=True, exist_ok=True)
    elif entry.kind == "symlink":
        current = os.readlink(path) if path.is_symlink() else None
        if current != entry.content:
            change.actions.append(f"link -> {entry.content}")
            if not dry_run:
                path.parent.mkdir(parents=True, exist_ok=True)
                if path.is_symlink() or path.exists():
                    path.unlink()
                path.symlink_to(entry.content)
        return change  # symlinks carry no mode or owner of their own
    else:
        old = path.read_text() if path.is_file() else None
        new = _merged(old, entry.content) if entry.ensure_lines else entry.content
        if old != new:
            change.actions.append("create" if old is None else "update")
            change.diff = "".join(
                difflib.unified_diff(
                    (old or "").splitlines(keepends=True),
                    new.splitlines(keepends=True),
                    fromfile=f"a{entry.path}" if old is not None else "/dev/null",
                    tofile=f"b{entry.path}",
                )
            )
            if not dry_run:
                _write_atomic(path, new, entry.mode)
    _fix_mode_owner(entry, path, target, change, dry_run=dry_run)
    return change


def _fix_mode_owner(
    entry: Entry, path: Path, target: Target, change: Change, *, dry_run: bool
) -> None:
    if entry.mode is None:
        return  # e.g. the FAT boot partition, which has no modes or owners
    if not path.exists():  # only in a dry run: say what the new file will be
        change.actions[-1] += f" ({entry.mode:o} {entry.owner}:{entry.group})"
        return
    mode = path.stat().st_mode & 0o7777
    if mode != entry.mode:
        change.actions.append(f"mode {mode:o} -> {entry.mode:o}")
        if not dry_run:
            os.chmod(path, entry.mode)
    if os.geteuid() != 0:
        return  # only root can give files away; the plan still shows the intended owner
    uid, gid = target.uid(entry.owner), target.gid(entry.group)
    st = path.stat()
    if (st.st_uid, st.st_gid) != (uid, gid):
        change.actions.append(f"owner -> {entry.owner}:{entry.group}")
        if not dry_run:
            os.chown(path, uid, gid)


def _merged(old: str | None, wanted: str) -> str:
    """`old` with the block `wanted` appended, unless the block's last line is already there."""
    text = old or ""
    lines = wanted.splitlines()
    if not lines or lines[-1] in text.splitlines():
        return text
    if text and not text.endswith("\n"):
        text += "\n"
    return text + "\n".join(lines) + "\n"


def _write_atomic(path: Path, text: str, mode: int | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.lapak-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644 if mode is None else mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    if mode is not None:
        os.chmod(tmp, mode)  # the umask may have narrowed it
    tmp.replace(path)


def _lookup_id(
    table: Path, name: str, host_lookup: Callable[[str], tuple[Any, ...]], what: str
) -> int:
    """The id of `name` in the target's passwd/group file, else on this host."""
    if name == "root":
        return 0
    if table.is_file():
        for line in table.read_text().splitlines():
            parts = line.split(":")
            if len(parts) > 2 and parts[0] == name:
                return int(parts[2])
    try:
        entry = host_lookup(name)
    except KeyError:
        raise RenderError(
            f"{what} {name!r} does not exist in {table} nor on this machine; install the "
            f"package that creates it (mosquitto for the broker) or run systemd-sysusers first"
        ) from None
    return int(entry[2])
