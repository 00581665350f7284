"""The device registry exported from the fleet CA's index, for the back office."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from configkit import dump_toml, load
from provisioning import access, pki
from uplink.registry import DeviceRegistry, RegisteredDevice

HEADER = """\
# The fleet's devices: role and branch as each device's certificate names them.
# Written by `provision fleet registry` from the CA's index; do not edit: export it again after
# issuing, rotating or revoking a device certificate. The booking back office reads it
# (device_registry_path): check-ins count only from a kiosk of the booking's branch.
"""


@dataclass(frozen=True)
class Export:
    """A registry made from a CA, and the active client certificates it had to leave out."""

    registry: DeviceRegistry
    unnamed: tuple[str, ...]  # issued before certificates named role and branch


def from_ca(ca: pki.CADirectory) -> Export:
    """Every active device certificate of `ca` that names its role and branch."""
    devices: list[RegisteredDevice] = []
    unnamed: list[str] = []
    for record in ca.records():
        if record.kind != "client" or not record.active or access.kind_of(record.name) != "device":
            continue  # a server, a past certificate, the back office, a bridge, an operator
        if record.role is None or record.branch is None:
            unnamed.append(record.name)
            continue
        fields = {"device_id": record.name, "role": record.role, "branch": record.branch}
        devices.append(RegisteredDevice.model_validate({**fields, "serial": record.serial}))
    devices.sort(key=lambda d: d.device_id)
    return Export(DeviceRegistry(devices=devices), tuple(sorted(set(unnamed))))


def write(path: Path, registry: DeviceRegistry) -> None:
    """Write the registry atomically (the back office may be reading it) and prove it loads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.new")
    tmp.write_text(HEADER + dump_toml(registry), encoding="utf-8")
    os.chmod(tmp, 0o644)
    load(DeviceRegistry, tmp)
    tmp.replace(path)
