"""`provision config check --role ROLE FILE` validates a device's file against its role's model."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioning.__main__ import main

EXAMPLE = Path(__file__).resolve().parents[2] / "dropbox_agent" / "examples" / "dropbox.toml"


def test_the_role_decides_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", "--role", "dropbox", str(EXAMPLE)]) == 0
    assert main(["config", "check", "--role", "kiosk", str(EXAMPLE)]) == 2
    assert "booking: required key is missing; add it" in capsys.readouterr().err
