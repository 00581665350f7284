"""On a provisioned Pi only: the real self-test passes (run as root, with the app stopped)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.provisioning.helpers import provision

RECORD = Path("/etc/lapak/device.toml")

pytestmark = [
    pytest.mark.hardware,
    pytest.mark.skipif(
        not RECORD.exists() or os.geteuid() != 0,
        reason="needs a provisioned device (/etc/lapak/device.toml) and root",
    ),
]


def test_the_real_self_test_is_green_on_this_device(capsys: pytest.CaptureFixture[str]) -> None:
    run = provision(capsys, "check")

    assert run.code == 0, run.out + run.err
    assert "FAIL" not in run.out
