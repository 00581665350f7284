"""Each role's config model (owned by its app): built by `device init`, read by `check`."""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from configkit import ConfigError, load, parse, read_small_file
from provisioning.errors import InvalidSetup, ProvisionError, Refused
from provisioning.names import branch_name
from uplink import UplinkConfig
from uplink.booking import trustlist

# The role's config model, imported only when that role is provisioned or checked.
MODELS = {
    "kiosk": ("kiosk.config", "KioskConfig"),
    "dropbox": ("dropbox_agent.config", "DropboxConfig"),
}

# The dropbox's reference wiring (docs/hardware.md), BCM numbers; change with --set pins.X=N.
DROPBOX_PINS: dict[str, int] = {
    "beam": 17,
    "door": 27,
    "tamper": 22,
    "key_switch": 23,
    "ready_led": 5,
    "full_led": 6,
    "alarm_led": 13,
    "buzzer": 19,
}


@dataclass(frozen=True)
class Setup:
    """What `device init` knows about the device, for the role's config.

    `extra` holds the role's own options (trust anchors, printer...) and `overrides` the
    technician's `--set table.key=value` edits, applied last.
    """

    device_id: str
    branch: str
    uplink: UplinkConfig
    state_dir: Path
    etc_dir: Path
    api_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    overrides: tuple[str, ...] = ()
    # The device's own (CA certificate, certificate, key): a kiosk shows them to an https
    # booking API (mutual TLS), which reads only its branch's lists to it.
    client_tls: tuple[Path, Path, Path] | None = None


def model(role: str) -> type[BaseModel]:
    """The role's config model class.

    Raises:
        ProvisionError: this installation lacks the role's app.
    """
    module_name, class_name = MODELS[role]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ProvisionError(
            f"the {role} app is not installed here ({module_name}: {exc}); install the project "
            "with `pip install -e .` in the device's venv"
        ) from exc
    cls: type[BaseModel] = getattr(module, class_name)
    return cls


def build_config(role: str, setup: Setup) -> BaseModel:
    """The device's config as the role's model, with this device's identity and paths.

    Raises:
        Refused: a role option the device cannot do without is missing.
        InvalidSetup: the result does not validate (each problem is listed with its key).
    """
    data = _kiosk(setup) if role == "kiosk" else _dropbox(setup)
    for assignment in setup.overrides:
        apply_override(data, assignment)
    try:
        # configkit's parse: the same problems, in the same words, as `config check` gives.
        return parse(model(role), data, source=f"{role} config (--set)")
    except ConfigError as exc:
        problems = "; ".join(str(p) for p in exc.problems)
        raise InvalidSetup(
            f"the {role} config would be invalid: {problems}. Fix the option or the --set value"
        ) from None


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply one `table.key=value` edit; the value is TOML (`17`, `true`, `"text"`) or text.

    Raises:
        InvalidSetup: the assignment has no `=` or no key.
    """
    key, sep, raw = assignment.partition("=")
    parts = [p for p in key.strip().split(".") if p]
    if not sep or not parts:
        raise InvalidSetup(f"--set {assignment!r}: write it as table.key=value, e.g. pins.beam=17")
    try:
        value: Any = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()  # plain text needs no quotes on the command line
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise InvalidSetup(f"--set {assignment!r}: {part} is not a table")
        node = child
    node[parts[-1]] = value


def role_files(role: str, config: BaseModel, extra: Mapping[str, Any]) -> dict[Path, bytes]:
    """The files the role's config points at, read and checked before anything is made: the
    kiosk's signed trust list (`--trust-list`), which must verify against its trust anchors.

    Raises:
        InvalidSetup: the file cannot be read, is over the trust list's size, or does not
            verify (it was copied as it was: `--trust-list /dev/zero` filled the disk).
    """
    source = extra.get("trust_list")
    if role != "kiosk" or not source:
        return {}
    booking = getattr(config, "booking")  # noqa: B009
    try:
        document = read_small_file(source, trustlist.MAX_DOCUMENT_BYTES)
    except OSError as exc:
        raise InvalidSetup(f"--trust-list {source}: cannot read it ({exc.strerror})") from None
    try:
        anchors = [trustlist.load_anchor(anchor) for anchor in booking.trust_anchors]
        held = trustlist.parse(document, anchors)
    except (ValueError, trustlist.TrustListError) as exc:
        raise InvalidSetup(
            f"--trust-list {source}: {exc}; give the file `backoffice booking trust-list --out "
            "FILE` wrote, signed by the --trust-anchor given"
        ) from None
    return {Path(booking.trust_list_path): held.document}


def install_files(files: Mapping[Path, bytes]) -> None:
    """Write the files `role_files` read (the kiosk's signed trust list)."""
    for target, content in files.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def load_config(record: Any) -> BaseModel:
    """Load the config file named by a `DeviceRecord`, with the role's model."""
    return load(model(record.role), record.config_file)


def uplink_of(config: BaseModel) -> UplinkConfig:
    uplink = getattr(config, "uplink", None)
    if not isinstance(uplink, UplinkConfig):
        raise ProvisionError(f"{type(config).__name__} has no [uplink] table")
    return uplink


def api_url_of(config: BaseModel) -> str | None:
    """The backend API the device calls, if its role has one (the kiosk's booking API)."""
    booking = getattr(config, "booking", None)
    url = getattr(booking, "api_base_url", None)
    return str(url) if url else None


def _kiosk(setup: Setup) -> dict[str, Any]:
    anchors: Sequence[str] = list(setup.extra.get("trust_anchors") or [])
    if not anchors:
        raise Refused(
            "a kiosk needs --trust-anchor: the back office's booking root public key "
            "(`backoffice booking keygen` prints it as trust_anchor)"
        )
    state = setup.state_dir
    code = setup.extra.get("kiosk_code") or _kiosk_code(setup.device_id)
    printer = setup.extra.get("printer") or "file:/dev/lapak-printer"
    transport, _, target = printer.partition(":")
    return {
        "uplink": setup.uplink.model_dump(),
        "booking": {
            "kiosk_id": setup.device_id,
            "branch": setup.branch,
            "trust_anchors": list(anchors),
            "trust_list_path": state / "trustlist.json",
            "cache_dir": state / "cache",
            "ledger_path": state / "ledger.db",
            "api_base_url": setup.api_url,
            **_api_tls(setup),
        },
        "tickets": {
            "branch_name": branch_name(setup.branch, setup.extra.get("branch_name")),
            "kiosk_code": code,
            "book_path": state / "tickets.db",
        },
        "printer": {"transport": transport, "target": target},
    }


def _api_tls(setup: Setup) -> dict[str, Path]:
    """The kiosk's booking-API TLS settings: its fleet certificate for an https API."""
    if setup.client_tls is None or not (setup.api_url or "").startswith("https://"):
        return {}
    ca_file, cert_file, key_file = setup.client_tls
    return {"tls_ca_file": ca_file, "tls_cert_file": cert_file, "tls_key_file": key_file}


def _kiosk_code(device_id: str) -> str:
    last = device_id[-1].upper()
    if last.isalnum():
        return last
    raise Refused(f"give --kiosk-code (one of 0-9, A-Z) for {device_id!r}")


def _dropbox(setup: Setup) -> dict[str, Any]:
    return {
        "uplink": setup.uplink.model_dump(),
        "box_id": setup.device_id,
        "branch": setup.branch,
        "local_db_path": setup.state_dir / "box.db",
        "pins": dict(DROPBOX_PINS),
    }
