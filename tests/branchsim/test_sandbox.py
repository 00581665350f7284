"""Simulators with no set-up: `dropbox-agent simulate` alone gets a throwaway back office."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from branchsim.branch import branch_day_scenario
from configkit import layout
from dropbox_agent.__main__ import main


def test_dropbox_simulate_with_no_config_runs_against_a_throwaway_back_office(
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # GIVEN a machine with no dropbox config installed
    monkeypatch.setattr(layout, "config_file", lambda role: tmp_path / f"{role}.toml")
    caplog.set_level(logging.INFO, logger="backoffice.receiver")

    # WHEN the box is simulated with nothing else given
    code = main(["simulate", "--scenario", str(branch_day_scenario()), "--speed", "20"])

    # THEN its scripted day reaches a back office, which is gone again afterwards
    out = capsys.readouterr().out
    assert code == 0, out
    stored = re.search(r"the back office stored (\d+) events", out)
    assert stored is not None and int(stored.group(1)) >= 10, out
    where = re.search(r"back office in (\S+)", out)
    assert where is not None and not Path(where.group(1)).exists()
    # and its clean quit is not said as a fault (the receiver's own goodbye was "lost the broker")
    said = [r.getMessage() for r in caplog.records if r.name == "backoffice.receiver"]
    assert said and not [m for m in said if "lost the broker" in m], said
