"""Where a provisioned device keeps its files: config, keys in /etc/lapak; data in /var/lib/lapak.

One layout for every tool, provisioning, the example configs, the systemd units and the docs
(`tests/test_layout.py` holds them to it), so each command on a provisioned device finds its
config with no flag::

    /etc/lapak/device.toml          who the device is (`provision device init`)
    /etc/lapak/<name>.toml          a tool's config: kiosk, dropbox, backoffice, booking
    /etc/lapak/pki/                 device.key (0600), device.crt, ca.crt
    /var/lib/lapak/<role>/          the role's data: outbox, the kiosk's check-in ledger and booking
                                    cache, the dropbox's box store (systemd StateDirectory)
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

ETC = PurePosixPath("/etc/lapak")
STATE_ROOT = PurePosixPath("/var/lib/lapak")
PKI_DIR = ETC / "pki"

CONFIG_NAMES = ("kiosk", "dropbox", "backoffice", "booking")


def config_file(name: str) -> Path:
    """The default config file of a tool on a provisioned device, e.g. /etc/lapak/kiosk.toml."""
    if name not in CONFIG_NAMES:
        raise ValueError(f"unknown config {name!r}; one of {', '.join(CONFIG_NAMES)}")
    return Path(ETC / f"{name}.toml")


def state_dir(role: str) -> Path:
    """The role's data folder, e.g. /var/lib/lapak/kiosk."""
    return Path(STATE_ROOT / role)
