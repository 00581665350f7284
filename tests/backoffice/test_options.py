"""Option names and values read the same across the tools."""

from __future__ import annotations

import pytest

from backoffice.__main__ import main


def test_booking_issue_takes_a_service_in_any_case_like_kiosk_walkin(
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = ["booking", "issue", "--config", "/nonexistent.toml", "--branch", "jakarta-salemba"]
    base += ["--date", "2020-06-15", "--slot", "09:00-10:00", "--name", "Budi"]
    # Parsed (then stops at the missing config, exit 2), not refused by argparse.
    assert main([*base, "--service", "jkk"]) == 2
    assert "cannot read the file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "--service", "jkx"])
    assert "service 'JKX' is not one of JHT, JKK, JKM, JP" in capsys.readouterr().err
