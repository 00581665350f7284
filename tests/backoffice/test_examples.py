"""The back office's two files: an example of each, one `config check` for both, and the
`booking keygen` step their comments describe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backoffice.__main__ import main

EXAMPLES = Path(__file__).resolve().parents[2] / "backoffice" / "examples"


def test_both_examples_pass_one_config_check(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(EXAMPLES / "backoffice.toml"), str(EXAMPLES / "booking.toml")]
    assert main(["config", "check", *files]) == 0
    out = capsys.readouterr().out
    assert f"{files[0]}: OK" in out and f"{files[1]}: OK" in out


def test_a_problem_in_either_file_is_one_line_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    booking = tmp_path / "booking.toml"
    text = (EXAMPLES / "booking.toml").read_text(encoding="utf-8")
    booking.write_text(text.replace("key_validity_days", "key_valid_days"), encoding="utf-8")
    good = str(EXAMPLES / "backoffice.toml")
    assert main(["config", "check", good, str(booking)]) == 2
    err = capsys.readouterr().err
    assert "key_valid_days = 365: unknown key (did you mean 'key_validity_days'?)" in err
    # The old spelling still works and says the same.
    assert main(["booking", "check-config", str(booking)]) == 2
    assert "did you mean 'key_validity_days'" in capsys.readouterr().err


def test_keygen_as_the_example_describes_prints_the_trust_anchor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (EXAMPLES / "booking.toml").read_text(encoding="utf-8")
    assert "backoffice booking keygen" in text and "--trust-anchor" in text
    local = tmp_path / "booking.toml"
    local.write_text(
        text.replace("/var/lib/lapak/booking", str(tmp_path / "data"))
        .replace("/etc/lapak/booking-keys", str(tmp_path / "keys"))
        .replace("/var/lib/lapak/backoffice", str(tmp_path / "events")),
        encoding="utf-8",
    )
    (tmp_path / "data").mkdir()
    assert main(["booking", "keygen", "--config", str(local)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert len(printed["trust_anchor"]) == 44  # base64 of a 32-byte Ed25519 key
