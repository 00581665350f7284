"""The back office's two files: an example of each, one `config check` for both, and the
`booking keygen` step their comments describe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backoffice.__main__ import main
from backoffice.config import BackofficeConfig
from configkit import file_problems
from provisioning import pki
from provisioning.__main__ import main as provision
from uplink.config import BrokerConfig

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


def test_the_back_offices_missing_identity_names_the_commands_that_make_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN backoffice.toml naming TLS files not made yet WHEN it is checked THEN each warning
    names what makes the back office's identity (`provision key`, `provision ca issue`; a
    device's `provision device init` does not), and doing what it says makes the check clean."""
    ca = pki.CADirectory.init(tmp_path / "ca", "Fleet CA")
    pki_dir = tmp_path / "pki"
    config = tmp_path / "backoffice.toml"
    text = (EXAMPLES / "backoffice.toml").read_text(encoding="utf-8")
    config.write_text(text.replace("/etc/lapak/pki", str(pki_dir)), encoding="utf-8")
    assert main(["config", "check", str(config)]) == 0
    warnings = capsys.readouterr().err.strip().splitlines()
    assert [w.split(" = ")[0].rsplit(" ", 1)[1] for w in warnings] == [
        "broker.ca_file", "broker.cert_file", "broker.key_file"
    ]  # fmt: skip
    key, cert = pki_dir / "backoffice.key", pki_dir / "backoffice.crt"
    for warning in warnings:
        assert "provision device" not in warning
        assert f"`provision key --cn backoffice --key {key} --csr backoffice.csr`" in warning
        assert f"--csr backoffice.csr --out {cert}`" in warning
    # Doing what the warnings say (the CA at its place here, the CSR beside the config):
    pki_dir.mkdir()
    csr = tmp_path / "backoffice.csr"
    assert provision(["key", "--cn", "backoffice", "--key", str(key), "--csr", str(csr)]) == 0
    issue = ["ca", "issue", "--dir", str(ca.directory), "--csr", str(csr), "--out", str(cert)]
    assert provision(issue) == 0
    (pki_dir / "ca.crt").write_bytes(ca.cert_file.read_bytes())
    capsys.readouterr()
    assert main(["config", "check", str(config)]) == 0
    assert capsys.readouterr().err == ""


def test_broker_settings_handed_in_code_speak_as_the_back_offices(tmp_path: Path) -> None:
    """A simulated branch hands the back office its broker client's settings (a BrokerConfig)."""
    broker = BrokerConfig(
        host="127.0.0.1", ca_file=tmp_path / "ca.crt", cert_file=tmp_path / "bo.crt",
        key_file=tmp_path / "bo.key",
    )  # fmt: skip
    config = BackofficeConfig(broker=broker, database_path=tmp_path / "events.db")
    assert config.broker.host == "127.0.0.1" and config.broker.cert_file == tmp_path / "bo.crt"
    (problem, *_) = file_problems(config, "backoffice.toml")
    assert "provision key --cn backoffice" in problem.message
