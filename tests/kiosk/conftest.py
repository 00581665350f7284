"""Fixtures of the kiosk tests: a kiosk engine on simulated devices (see tests/kiosk/rig.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kiosk.rig import Rig, make_rig


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    """A kiosk with default settings at 09:30 WIB on a Monday, nothing checked in yet."""
    made = make_rig(tmp_path / "kiosk")
    yield made
    made.close()
