"""The fleet's device registry: which device is a kiosk or a dropbox, and of which branch.

Written by `provision fleet registry` from the CA's index (each device certificate names its
role and branch when it is signed), read by the back office: a check-in counts only from a
registered kiosk of the booking's branch, and a kiosk's mutual-TLS identity reads only its own
branch's booking lists. What a device says about itself in a message is never asked.

File (TOML)::

    # written by `provision fleet registry` ...
    [[devices]]
    device_id = "jakarta-salemba-kiosk-1"
    role = "kiosk"
    branch = "jakarta-salemba"
    serial = "5f3a..."
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, PrivateAttr, field_validator, model_validator

from configkit import ConfigError, ConfigModel, load
from uplink.branches import check_branch_id
from uplink.topics import check_id

logger = logging.getLogger(__name__)

DeviceRole = Literal["kiosk", "dropbox"]


class RegisteredDevice(ConfigModel):
    """One device as the fleet CA certified it."""

    device_id: str = Field(description="The device id: its certificate's CN and MQTT identity.")
    role: DeviceRole = Field(description="What the device is (its certificate's OU).")
    branch: str = Field(description="The branch office it stands in (its certificate's L).")
    serial: str = Field(
        "", pattern=r"^[0-9a-f]{0,40}$", description="Its certificate's serial (hex), for audit."
    )

    @field_validator("device_id")
    @classmethod
    def _device_id(cls, value: str) -> str:
        check_id(value)
        return value

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str) -> str:
        check_branch_id(value)
        return value


class DeviceRegistry(ConfigModel):
    """Every device the back office knows (a device not listed may do nothing here)."""

    devices: list[RegisteredDevice] = Field(
        default_factory=list, description="The fleet's devices, one table each."
    )
    _by_id: dict[str, RegisteredDevice] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._by_id = {d.device_id: d for d in self.devices}

    @model_validator(mode="after")
    def _unique(self) -> Self:
        seen: set[str] = set()
        for device in self.devices:
            if device.device_id in seen:
                raise ValueError(
                    f"device {device.device_id!r} is listed twice; export the registry again "
                    "with `provision fleet registry`"
                )
            seen.add(device.device_id)
        return self

    def get(self, device_id: str) -> RegisteredDevice | None:
        """The device with this id, or None."""
        return self._by_id.get(device_id)

    def kiosk_branch(self, device_id: str) -> str | None:
        """The branch of the kiosk `device_id`; None unless it is a registered kiosk."""
        device = self.get(device_id)
        return device.branch if device is not None and device.role == "kiosk" else None


@dataclass
class RegistryFile:
    """The registry file, read again whenever it changes (a new kiosk needs no restart).

    A file that no longer loads keeps the registry last read, with one error line per change.
    """

    path: Path

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._registry = DeviceRegistry()
        self.current()

    def current(self) -> DeviceRegistry:
        """The registry as the file says now (or as it last said when it stopped loading)."""
        try:
            stat = os.stat(self.path)
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        with self._lock:
            if stamp is not None and stamp == self._stamp:
                return self._registry
            self._stamp = stamp
            try:
                self._registry = load(DeviceRegistry, self.path)
            except ConfigError as exc:
                logger.error(
                    "device registry %s not loaded (%s); keeping the %d device(s) read before. "
                    "Export it again: provision fleet registry --ca CA_DIR --out %s",
                    self.path,
                    str(exc).splitlines()[0],
                    len(self._registry.devices),
                    self.path,
                )
            return self._registry
