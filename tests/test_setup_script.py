"""scripts/setup.sh shows what it installs (issue 15: apt and pip ran hidden for minutes): run
against stand-ins for apt, dpkg and Python that print what the real ones print."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

APT_GET = """#!/bin/sh
echo "apt-get $*" >> "$CALLS"
[ "$1" = update ] && exit 0
for pkg in "$@"; do
    case $pkg in
        -*|install) ;;
        *) echo "Unpacking $pkg (1.0) ..."; echo "Setting up $pkg (1.0) ...";;
    esac
done
"""
PYTHON = """#!/bin/sh
# The interpreter setup.sh is given: version check and venv creation.
if [ "$1" = -c ]; then exit 0; fi
if [ "$1 $2" = "-m venv" ]; then
    mkdir -p "$3/bin"; cp "$0.venv" "$3/bin/python"; chmod +x "$3/bin/python"; exit 0
fi
exit 1
"""
VENV_PYTHON = """#!/bin/sh
echo "venv-python $*" >> "$CALLS"
case "$*" in *"-e "*)
    echo "Looking in indexes: https://pypi.org/simple"
    echo "Collecting paho-mqtt>=2"
    echo "  Downloading paho_mqtt-2.2.0-py3-none-any.whl (67 kB)"
    echo "Installing collected packages: paho-mqtt"
    echo "Successfully installed paho-mqtt-2.2.0";;
esac
"""


def _stub(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    return path


def test_setup_shows_the_packages_apt_and_pip_install(tmp_path: Path) -> None:
    """GIVEN a fresh checkout with no system packages and no venv (as root)
    WHEN scripts/setup.sh runs
    THEN it names the missing system packages, apt's own unpack and set-up lines show, pip's
    lines name each package it collects and installs (its noise is left out), and it ends with
    'setup: ready'."""
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "setup.sh", checkout / "scripts" / "setup.sh")
    (checkout / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _stub(bin_dir, "dpkg-query", "#!/bin/sh\nexit 1\n")  # nothing installed yet
    _stub(bin_dir, "id", "#!/bin/sh\necho 0\n")  # root: apt runs
    _stub(bin_dir, "systemctl", "#!/bin/sh\nexit 3\n")
    _stub(bin_dir, "apt-get", APT_GET)
    python = _stub(bin_dir, "python-for-setup", PYTHON)
    _stub(bin_dir, "python-for-setup.venv", VENV_PYTHON)
    calls = tmp_path / "calls"
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "PYTHON": str(python),
        "CALLS": str(calls),
        "HOME": str(tmp_path),
    }
    done = subprocess.run(
        ["bash", "scripts/setup.sh"], cwd=checkout, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 0, done.stderr
    apt_line = next(line for line in out.splitlines() if "installing system packages" in line)
    assert "mosquitto" in apt_line and "postgresql" in apt_line
    assert "Unpacking mosquitto (1.0) ..." in out and "Setting up mosquitto (1.0) ..." in out
    assert "Collecting paho-mqtt>=2" in out
    assert "Successfully installed paho-mqtt-2.2.0" in out
    assert "Looking in indexes" not in out and "Downloading" not in out
    assert out.rstrip().endswith("setup: ready")
    assert "apt-get install -y --no-install-recommends" in calls.read_text(encoding="utf-8")
    assert os.access(checkout / ".venv" / "bin" / "python", os.X_OK)
