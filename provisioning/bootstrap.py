"""`provision install` straight from the wheel, with nothing on the Pi but its own python3.

A wheel is a zip archive Python can import from, and this module needs only the standard
library, so on a freshly flashed Pi one command does everything::

    sudo PYTHONPATH=lapak_asik_appliance-0.1.0-py3-none-any.whl python3 -m provisioning.bootstrap \\
        --role kiosk --wheel lapak_asik_appliance-0.1.0-py3-none-any.whl --branch ...

It makes the app's venv (system site packages: picamera2 and lgpio come from apt), installs the
wheel into it, and hands over to that venv's `provision install` with the same arguments, which
does the rest (see `provisioning.install`). Safe to rerun. With `--root DIR` (a rehearsal) the
venv and pip commands are printed, not run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

DEFAULT_VENV = "/opt/lapak/venv"
EXTRAS = {"kiosk": "[ui]"}

Runner = Callable[[Sequence[str]], None]
Handover = Callable[[Sequence[str]], int]


def _run(argv: Sequence[str]) -> None:
    result = subprocess.run(list(argv), check=False)
    if result.returncode:
        sys.exit(
            f"`{' '.join(argv)}` failed (exit {result.returncode}); fix what it printed and run "
            "this command again (it is safe to rerun)"
        )


def _print(argv: Sequence[str]) -> None:
    print(f"      (rehearsal, not run) {' '.join(argv)}", flush=True)


def _exec(argv: Sequence[str]) -> NoReturn:
    os.execv(argv[0], list(argv))  # noqa: S606 - our own venv's entry point, no shell


def _this_python(argv: Sequence[str]) -> int:
    # A rehearsal made no venv: the `provision` of the Python running this carries on.
    return subprocess.call([sys.executable, "-m", "provisioning", *argv[1:]])


def main(
    argv: Sequence[str] | None = None,
    *,
    runner: Runner | None = None,
    handover: Handover | None = None,
) -> int:
    """Make the venv, install the wheel, then run the venv's `provision install ARGV`."""
    args = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--wheel", required=True)
    parser.add_argument("--role", required=True)
    parser.add_argument("--root", default="/")
    parser.add_argument("--venv", default=DEFAULT_VENV)
    known, _rest = parser.parse_known_args(args)
    wheel = Path(known.wheel)
    if not wheel.is_file():
        print(f"--wheel {wheel}: no such file; copy the wheel to this device first")
        return 2
    root = Path(known.root)
    rehearsal = root != Path("/")
    run = runner or (_print if rehearsal else _run)
    venv = root / known.venv.lstrip("/")
    print(f"[bootstrap] the app's venv {venv} and the project from {wheel.name}", flush=True)
    run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)])
    target = f"{wheel.resolve()}{EXTRAS.get(known.role, '')}"
    run([str(venv / "bin" / "pip"), "install", "--upgrade", target])
    hand = handover or (_this_python if rehearsal else _exec)
    return hand([str(venv / "bin" / "provision"), "install", *args])


if __name__ == "__main__":
    sys.exit(main())
