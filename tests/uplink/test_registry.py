"""The device registry file: checked whole, followed when it changes, kept when it breaks."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from uplink.registry import RegistryFile

ENTRY = '[[devices]]\ndevice_id = "{id}"\nrole = "kiosk"\nbranch = "jakarta-salemba"\n'


def _write(path: Path, text: str, stamp: int) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(stamp, stamp))  # a new modification time, as a copy over it gives


def test_a_new_registry_is_read_without_a_restart_and_a_broken_one_keeps_the_last(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "devices.toml"
    _write(path, ENTRY.format(id="kiosk-1"), 1_000_000_000)
    registry = RegistryFile(path)
    assert registry.current().kiosk_branch("kiosk-1") == "jakarta-salemba"
    assert registry.current().kiosk_branch("kiosk-2") is None

    _write(path, ENTRY.format(id="kiosk-1") + ENTRY.format(id="kiosk-2"), 2_000_000_000)
    assert registry.current().kiosk_branch("kiosk-2") == "jakarta-salemba"

    with caplog.at_level(logging.ERROR, logger="uplink.registry"):
        _write(path, ENTRY.format(id="kiosk-1") + 'role = "printer"\n', 3_000_000_000)
        for _ in range(3):
            assert registry.current().kiosk_branch("kiosk-2") == "jakarta-salemba"
        path.unlink()
        assert registry.current().kiosk_branch("kiosk-1") == "jakarta-salemba"
    lines = [r.getMessage() for r in caplog.records if r.name == "uplink.registry"]
    assert len(lines) == 2  # once per change, not per read
    assert "provision fleet registry" in lines[0]


def test_a_registry_listing_a_device_twice_or_a_bad_branch_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "devices.toml"
    path.write_text(ENTRY.format(id="kiosk-1") * 2, encoding="utf-8")
    assert RegistryFile(path).current().devices == []
    path.write_text(ENTRY.format(id="kiosk-1").replace("jakarta-salemba", "Jkt 1"), "utf-8")
    assert RegistryFile(path).current().devices == []
