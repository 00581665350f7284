"""Every example config under `*/examples/` says in its first line what it needs to run, and
names a simulator that runs with no set-up instead; those simulators run as shipped."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(ROOT.glob("*/examples/*.toml"))
# The commands that run with no config and no set-up (each started by a test: the branch in
# tests/test_branch_simulation.py, the dropbox in tests/branchsim/test_sandbox.py, the kiosk
# below).
NO_SETUP = {"./scripts/branch.sh", "dropbox-agent simulate", "kiosk run --simulate"}
FIRST_LINE = re.compile(r"# Needs: (?P<needs>.+); without them: `(?P<instead>[^`]+)`\.")


def test_there_are_examples() -> None:
    assert {p.parent.parent.name for p in EXAMPLES} >= {"kiosk", "dropbox_agent", "backoffice"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_an_example_says_first_what_it_needs_and_what_runs_without(example: Path) -> None:
    text = example.read_text(encoding="utf-8")
    first = text.splitlines()[0]

    matched = FIRST_LINE.fullmatch(first)

    assert matched, f"{example}: first line must be '# Needs: ...; without them: `COMMAND`.'"
    assert matched["instead"] in NO_SETUP, matched["instead"]
    # The tables it names are the file's own.
    document = tomllib.loads(text)
    for table in re.findall(r"\[([a-z_.]+)\]", matched["needs"]):
        node: object = document
        for part in table.split("."):
            assert isinstance(node, dict) and part in node, f"{example}: no [{table}]"
            node = node[part]


def test_kiosk_run_simulate_runs_with_no_config(tmp_path: Path) -> None:
    # GIVEN a display (Kivy draws offscreen; the kiosk only asks that there is one)
    env = {**os.environ, "DISPLAY": ":99", "SDL_VIDEODRIVER": "offscreen", "KIVY_NO_ARGS": "1"}
    command = [sys.executable, "-m", "kiosk", "run", "--simulate", "--out", str(tmp_path)]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    guard = threading.Timer(120, process.kill)  # a kiosk that never says it runs fails
    guard.start()
    try:
        # WHEN it starts with nothing given but a folder for its tickets
        assert process.stdout is not None
        said = []
        for line in process.stdout:  # Kivy may say a word first
            said.append(line)
            if "simulated kiosk" in line:
                break
        assert "simulated kiosk" in said[-1], said
        threading.Event().wait(2.0)
        # THEN it keeps running (its throwaway bookings made) until told to stop
        assert process.poll() is None
        assert (tmp_path / "trust-list.json").is_file()
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    finally:
        guard.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
    assert process.returncode == 0
