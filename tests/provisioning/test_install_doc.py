"""docs/install-pi.md's real installation, counted and run end to end in simulation: the wheel
built by the documented command, then each device command as printed, with the device's root
a folder (system commands printed, not run; the self-test on simulated hardware and branch)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from provisioning import pki
from tests.provisioning.helpers import trust_anchor

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "install-pi.md"
MARK = "<!-- per-device commands"


def _block(after: str) -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(after)
    block = re.search(r"```sh\n(.*?)```", text[start:], re.DOTALL)
    assert block, f"no ```sh block after {after!r} in {DOC}"
    return [shlex.split(line) for line in block.group(1).splitlines() if line.strip()]


def test_the_doc_says_how_many_commands_a_device_takes_and_it_is_at_most_five() -> None:
    commands = _block(MARK)
    text = DOC.read_text(encoding="utf-8")
    assert f"## Each device: flash, then {len(commands)} commands" in text
    assert f"**{len(commands)} commands per device.**" in text
    assert len(commands) <= 5
    [release] = _block("## Once per release")
    assert release[:2] == ["pip", "wheel"]


@pytest.mark.slow
def test_the_documented_install_runs_end_to_end_in_simulation(tmp_path: Path) -> None:
    """GIVEN the fleet CA on the 'USB stick' and a kiosk's root as a folder
    WHEN the release command and the per-device commands run as the doc prints them
    THEN the install shows its 7 steps, provisions jakarta-salemba-kiosk-1, renders it, and
    ends with a green self-test (the reboot printed, not run)."""
    laptop, home, device = tmp_path / "laptop", tmp_path / "home", tmp_path / "device"
    for folder in (laptop, home, device):
        folder.mkdir()
    # Once per release: the documented command, its output folder inside this test.
    [release] = _block("## Once per release")
    wheel_dir = release.index("--wheel-dir") + 1
    release[wheel_dir] = str(laptop / release[wheel_dir])
    subprocess.run([sys.executable, "-m", *release], cwd=ROOT, check=True, capture_output=True)

    pki.CADirectory.init(device / "mnt" / "lapak-ca", "Lapak Asik test CA")
    cwd, outputs = laptop, []
    for command in _block(MARK):
        if command[0] == "scp":  # the wheel reaches the device's home folder
            shutil.copy(laptop / command[1], home)
        elif command[0] == "ssh":
            cwd = home
        elif command[:2] == ["sudo", "mount"]:
            assert command[-1] == "/mnt"  # the stick: the CA made above, under the root
        else:
            assert command[0] == "sudo"
            env_assignments = [c for c in command[1:] if re.match(r"^[A-Z_]+=", c)]
            argv = command[1 + len(env_assignments) :]
            env = dict(os.environ)
            env.update(a.split("=", 1) for a in env_assignments)
            env["PYTHONPATH"] = str(cwd / env["PYTHONPATH"])  # relative to the device's home
            argv = [sys.executable if a == "python3" else a for a in argv]
            argv = [str(device / a.lstrip("/")) if a.startswith("/mnt/") else a for a in argv]
            argv = [trust_anchor() if a == "KEY" else a for a in argv]
            argv += ["--root", str(device)]
            done = subprocess.run(
                argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=240
            )
            outputs.append(done.stdout + done.stderr)
            assert done.returncode == 0, outputs[-1]
    out = outputs[-1]
    for step in range(1, 8):
        assert f"[{step}/7]" in out
    assert "apt-get install -y --no-install-recommends cage python3-picamera2" in out
    assert "--system-site-packages" in out
    assert "checks passed" in out and "FAIL" not in out
    assert "(rehearsal, not run) systemctl reboot" in out
    config = (device / "etc" / "lapak" / "kiosk.toml").read_text()
    assert 'device_id = "jakarta-salemba-kiosk-1"' in config
    assert (device / "etc" / "systemd" / "system" / "lapak-kiosk.service").exists()
