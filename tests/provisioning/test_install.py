"""`provision install`: every step through an injectable runner, progress shown, safe to rerun."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from provisioning import install
from tests.provisioning.helpers import provision


def test_install_twice_records_the_system_commands_and_keeps_the_identity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[list[str]] = []

    def record(argv: Sequence[str]) -> None:
        ran.append(list(argv))

    monkeypatch.setattr(install, "REHEARSAL_RUNNER", record)
    ca, root = tmp_path / "ca", tmp_path / "box"
    assert provision(capsys, "ca", "init", "--dir", ca).code == 0
    argv = ["install", "--role", "dropbox", "--root", root, "--branch", "jakarta-salemba"]
    argv += ["--ca", ca, "--set", "printer.enabled=true"]

    first = provision(capsys, *argv)
    assert first.code == 0, first.out + first.err
    assert [line for line in first.out.splitlines() if line.startswith("[")] == [
        f"[{n}/7] {title}" for n, (title, _) in enumerate(install.steps("dropbox"), 1)
    ]
    assert [
        "apt-get",
        "install",
        "-y",
        "--no-install-recommends",
        "python3-lgpio",
        "i2c-tools",
    ] in ran
    assert ["systemctl", "--root", str(root), "enable", "lapak-dropbox.service"] in ran
    assert ran[-1] == ["systemctl", "reboot"]
    assert "checks passed" in first.out

    commands = list(ran)
    ran.clear()
    second = provision(capsys, *argv, "--no-reboot")
    assert second.code == 0, second.out + second.err
    assert "already provisioned as this role" in second.out
    assert "already up to date" in second.out
    assert ran == commands[:-1]  # the same commands, no reboot

    other = provision(capsys, *[("kiosk" if a == "dropbox" else a) for a in argv])
    assert other.code == 3 and "provisioned as a dropbox, not a kiosk" in other.out


def test_a_failing_system_command_stops_the_install_with_a_rerun_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(install, "REHEARSAL_RUNNER", lambda argv: install.run_command(["false"]))
    run = provision(
        capsys, "install", "--role", "dropbox", "--root", tmp_path, "--branch", "jakarta-salemba"
    )
    assert run.code == 1
    assert "`false` failed (exit 1)" in run.err and "safe to rerun" in run.err
