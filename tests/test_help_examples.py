"""The example under each command's --help: the repository files it names exist, and the ones
meant for a laptop (simulations) need no device's config."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from backoffice.__main__ import EXAMPLES as BACKOFFICE
from dropbox_agent.__main__ import EXAMPLES as DROPBOX
from kiosk.__main__ import EXAMPLES as KIOSK

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("kiosk/", "dropbox_agent/", "backoffice/", "provisioning/", "uplink/", "docs/")
EXAMPLES = {f"{tool} {command}": line for tool, table in
            (("kiosk", KIOSK), ("dropbox-agent", DROPBOX), ("backoffice", BACKOFFICE))
            for command, line in table.items()}  # fmt: skip


@pytest.mark.parametrize("command", sorted(EXAMPLES))
def test_the_repository_files_an_example_names_exist(command: str) -> None:
    named = [word for word in shlex.split(EXAMPLES[command]) if word.startswith(PACKAGES)]
    assert [word for word in named if not (ROOT / word).exists()] == []


@pytest.mark.parametrize("command", [c for c in sorted(EXAMPLES) if " simulate" in c])
def test_a_simulation_example_runs_on_a_laptop_without_a_device_config(command: str) -> None:
    """GIVEN a newcomer who copies the example under `simulate --help`
    THEN it takes no --config: every example config names the device's certificates in
    /etc/lapak/pki, so it stopped at once with 'cannot set up the uplink'."""
    assert "--config" not in shlex.split(EXAMPLES[command])
