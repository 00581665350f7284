"""`provision ca` on bad arguments and a damaged index: one line, nothing half-made; and
certificates backdated a day for a Pi that starts on fake-hwclock's time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from provisioning import pki
from tests.provisioning.helpers import provision


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("days", ["-1", "0", "99999999"])
def test_ca_init_with_a_validity_out_of_range_is_one_line_and_leaves_no_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], days: str
) -> None:
    directory = tmp_path / "ca"
    run = provision(capsys, "ca", "init", "--dir", directory, "--days", days)
    assert run.code == 2
    assert f"--days {days}" in one_line(run.err) and "1 to 36500 days" in run.err
    assert not directory.exists()


def test_ca_crl_with_negative_days_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "ca"
    assert provision(capsys, "ca", "init", "--dir", directory).code == 0
    run = provision(capsys, "ca", "crl", "--dir", directory, "--days", "-5")
    assert run.code == 2 and "--days -5" in one_line(run.err)
    assert provision(capsys, "ca", "crl", "--dir", directory, "--days", "30").code == 0


def test_ca_issue_of_a_device_as_its_csr_is_one_line_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--csr /dev/zero` was read until memory ran out."""
    directory = tmp_path / "ca"
    assert provision(capsys, "ca", "init", "--dir", directory).code == 0
    out = tmp_path / "x.crt"
    run = provision(capsys, "ca", "issue", "--dir", directory, "--csr", "/dev/zero", "--out", out)
    assert run.code == 1
    assert "/dev/zero: not a readable PEM certificate request" in one_line(run.err)
    assert "device or a socket" in run.err and not out.exists()
    for load in (pki.load_cert, pki.load_key, pki.load_crl):  # check --crl, device install-cert
        with pytest.raises(pki.PkiError, match="device or a socket"):
            load(Path("/dev/zero"))


@pytest.mark.parametrize("damage", ["{not json", '{"a": 1}', '[{"unknown": 1}]'])
def test_ca_list_on_a_damaged_index_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    directory = tmp_path / "ca"
    assert provision(capsys, "ca", "init", "--dir", directory).code == 0
    (directory / pki.CA_INDEX).write_text(damage)
    run = provision(capsys, "ca", "list", "--dir", directory)
    assert run.code == 1
    assert "index of issued certificates is damaged" in one_line(run.err)


def test_a_failed_ca_init_removes_what_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_space(self: pki.CADirectory, **_: object) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pki.CADirectory, "write_crl", no_space)
    directory = tmp_path / "new" / "ca"
    run = provision(capsys, "ca", "init", "--dir", directory)
    assert run.code == 1 and "No space left" in one_line(run.err)
    assert not directory.exists()


def test_certificates_and_crls_are_backdated_a_day(tmp_path: Path) -> None:
    ca = pki.CADirectory.init(tmp_path / "ca", "Test CA")
    cert = ca.issue(pki.make_csr(pki.new_key(), "kiosk-1"))
    now = dt.datetime.now(dt.UTC)
    # A Pi whose clock restarted 20 h behind (fake-hwclock) still sees them as valid.
    behind = now - dt.timedelta(hours=20)
    assert cert.not_valid_before_utc <= behind
    assert ca.ca.cert.not_valid_before_utc <= behind
    assert ca.crl().last_update_utc <= behind
