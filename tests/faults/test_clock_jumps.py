"""The branch's clock jumps an hour forward and back mid-day (a device's clock corrected twice):
nothing lost, nothing stored twice, no queue number handed out twice."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from branchsim.branch import Branch
from tests.faults.day_audit import WIB, at, audited


@pytest.mark.faults
def test_a_clock_that_jumps_an_hour_forward_and_back_loses_nothing(tmp_path: Path) -> None:
    start = datetime(2026, 11, 30, 9, 0, tzinfo=WIB)
    # The day's script (deposits among it) plays over the 10 simulated minutes run here.
    branch = Branch(tmp_path, 30.0, 2, True, start, span=timedelta(minutes=10))
    pause = threading.Event()
    branch.start(lambda _step: None)
    try:
        for step in range(40):  # 20 s of a busy morning, at x30
            pause.wait(0.5)
            branch.tick()
            if step == 10:
                branch.clock.jump(3600)  # an hour forward...
            elif step == 25:
                branch.clock.jump(-3600)  # ...and back
    finally:
        branch.stop()
    summary, events = audited(branch, tmp_path)

    assert summary["total"]["tickets_issued"] > 0 and summary["total"]["deposits"] > 0
    # Events were stamped during the jump: the back office has times an hour ahead.
    stamps = [at(e) for e in events]
    assert max(stamps) - min(stamps) > timedelta(minutes=50)
