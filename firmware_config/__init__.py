"""Data rendered by provisioning: boot config, systemd units, udev rules, broker config."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from string import Template


def files() -> Traversable:
    """The firmware_config data tree, as shipped in the package."""
    return resources.files(__name__)


def render(relative_path: str, **values: object) -> str:
    """Render one `*.tmpl` file with `$name` placeholders; a missing value raises KeyError."""
    text = files().joinpath(relative_path).read_text(encoding="utf-8")
    return Template(text).substitute({k: str(v) for k, v in values.items()})
