"""`provision render` and `install` refuse what the rendered files cannot carry, before writing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.provisioning.helpers import provision


@pytest.mark.parametrize(
    ("role", "option", "value", "said"),
    [
        # ExecStart= split '/opt/x y' into two words; a relative path is no unit's command.
        ("kiosk", "--venv", "/opt/x y", "give an absolute path"),
        ("kiosk", "--venv", "opt/lapak/venv", "give an absolute path"),
        ("kiosk", "--venv", "/opt/../etc", "give an absolute path"),
        # the mount unit named /dev/disk/by-label/a b
        ("kiosk", "--data-label", "a b", "give a partition label of 1-16"),
        ("kiosk", "--data-label", "x" * 17, "give a partition label of 1-16"),
        # mosquitto.conf got `listener 99999 0.0.0.0` and `listener 8883 x y`
        ("broker", "--tls-port", "99999", "give a TCP port from 1 to 65535"),
        ("broker", "--central-port", "0", "give a TCP port from 1 to 65535"),
        ("broker", "--bind", "x y", "is not a host name or an IP address"),
        ("broker", "--central-host", "a;b", "is not a host name or an IP address"),
    ],
)
def test_a_value_the_rendered_files_cannot_carry_is_a_usage_error(
    role: str,
    option: str,
    value: str,
    said: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "root"
    with pytest.raises(SystemExit) as stopped:
        provision(capsys, "render", "--role", role, "--root", root, option, value)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: " in err and said in err
    assert not root.exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [("--venv", "venv"), ("--broker-host", "a b"), ("--central-host", "a;b"),
     ("--central-port", "70000")],
)  # fmt: skip
def test_install_checks_them_before_its_first_step(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before apt, the venv and device init run (render would refuse them only at its step)."""
    with pytest.raises(SystemExit) as stopped:
        provision(capsys, "install", "--role", "kiosk", "--branch", "jakarta-salemba",
                  option, value)  # fmt: skip
    assert stopped.value.code == 2 and f"argument {option}: " in capsys.readouterr().err


def test_good_values_render(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "root"
    run = provision(capsys, "render", "--role", "kiosk", "--root", root, "--read-only-root",
                    "--venv", "/opt/lapak/venv-2", "--data-label", "LAPAK_DATA")  # fmt: skip
    assert run.code == 0, run.err
    unit = (root / "etc/systemd/system/lapak-kiosk.service").read_text()
    assert "/opt/lapak/venv-2/bin/kiosk run" in unit
    mount = (root / "etc/systemd/system/var-lib-lapak.mount").read_text()
    assert "What=/dev/disk/by-label/LAPAK_DATA" in mount
