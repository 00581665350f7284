"""The three commands at the top of docs/install-pi.md, run exactly as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.provisioning.helpers import provision

DOC = Path(__file__).resolve().parents[2] / "docs" / "install-pi.md"


def _first_commands() -> list[list[str]]:
    block = re.search(r"```sh\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert block, f"{DOC} has no ```sh block"
    return [shlex.split(line) for line in block.group(1).splitlines() if line.strip()]


def test_the_documented_flow_is_three_provision_commands() -> None:
    commands = _first_commands()

    assert len(commands) == 3
    assert [c[:3] for c in commands] == [
        ["provision", "ca", "init"],
        ["provision", "device", "init"],
        ["provision", "check", "--root"],
    ]


def test_a_new_device_goes_from_device_init_to_a_green_check_with_those_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)

    runs = [provision(capsys, *command[1:]) for command in _first_commands()]

    assert [r.code for r in runs] == [0, 0, 0], [r.err for r in runs]
    check = runs[-1].out
    assert "FAIL" not in check and "checks passed" in check
    assert "back-office ack received" in check and "GPIO inputs read at rest" in check
