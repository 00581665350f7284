#!/usr/bin/env bash
# All set-up for a fresh machine (Debian/Ubuntu or Raspberry Pi OS): system packages, the venv
# in .venv, and this project installed into it with its test and UI extras. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

# mosquitto: the real broker for the simulated branch and the tests.
# libgl1 libgl1-mesa-dri libegl1 libmtdev1: Kivy's offscreen rendering (touchscreen UI).
# postgresql: the head office's event store, started by the tests in a temporary directory.
# systemd, cage: `systemd-analyze verify` checks the rendered units (the kiosk session runs cage).
# fonts-dejavu-core: DejaVu Sans Mono, the simulated receipts' font (evenly spaced, like the printer's).
# espeak-ng: the kiosk's spoken prompts (`kiosk voices`, Indonesian voice `-v id`).
APT_PACKAGES=(mosquitto postgresql libgl1 libgl1-mesa-dri libegl1 libmtdev1 systemd cage fonts-dejavu-core
    espeak-ng)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        echo "setup: installing system packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # apt's own lines show what is being unpacked and set up (it takes minutes).
        apt-get install -y --no-install-recommends "${missing[@]}"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        echo "setup: installing system packages with sudo: ${missing[*]}"
        sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            "${missing[@]}"
    else
        echo "setup: these system packages are missing: ${missing[*]}" >&2
        echo "setup: install them as root, then run this again:" >&2
        echo "    sudo apt-get install --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
fi
# The Debian package enables a system-wide broker on port 1883; ours start their own.
if command -v systemctl >/dev/null && systemctl is-active --quiet mosquitto 2>/dev/null; then
    echo "setup: note: a system mosquitto is running; the simulation does not need or use it"
fi

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup: Python 3.11 or newer is needed ($PYTHON is $("$PYTHON" -V 2>&1))" >&2
    exit 1
fi
if [[ ! -x .venv/bin/python ]]; then
    echo "setup: creating .venv"
    "$PYTHON" -m venv .venv || {
        echo "setup: cannot create a venv; install python3-venv (apt-get install python3-venv)" >&2
        exit 1
    }
fi
# Re-install only when the project's metadata changed since the last successful set-up.
stamp=.venv/.lapak-setup
if [[ ! -f $stamp || pyproject.toml -nt $stamp ]]; then
    echo "setup: installing the project and its dependencies into .venv (pip lists each one)"
    .venv/bin/python -m pip install -q --upgrade pip
    # pip's failure still fails the set-up (pipefail); only grep finding nothing is forgiven.
    .venv/bin/python -m pip install --progress-bar off -e ".[dev,ui,sim]" |
        { grep -E "^(Collecting|Installing|Successfully)" || true; }
    touch "$stamp"
fi
echo "setup: ready"
