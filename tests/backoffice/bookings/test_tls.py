"""The booking API's client CRL as `config check` and the start see it: a CRL that would lock
every kiosk out (another CA's, run out, garbled) is refused with its key and the fix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from backoffice.__main__ import main as backoffice
from backoffice.bookings.config import ApiConfig
from backoffice.bookings.tls import crl_problems
from configkit import ConfigError, parse
from provisioning import pki


@pytest.fixture(scope="module")
def cas(tmp_path_factory: pytest.TempPathFactory) -> tuple[pki.CADirectory, pki.CADirectory]:
    base = tmp_path_factory.mktemp("cas")
    return (pki.CADirectory.init(base / "fleet", "Fleet CA"),
            pki.CADirectory.init(base / "other", "Another CA"))  # fmt: skip


def _booking_toml(tmp_path: Path, fleet: pki.CADirectory, crl: Path) -> Path:
    server = pki.issue_identity(fleet.ca, tmp_path / "api-pki", "booking-api",
                                server_names=["127.0.0.1"])  # fmt: skip
    path = tmp_path / "booking.toml"
    path.write_text(
        f'database_path = "{tmp_path / "bookings.db"}"\nkeys_dir = "{tmp_path / "keys"}"\n'
        f'device_registry_path = "{tmp_path / "devices.toml"}"\n[api]\nport = 0\n'
        f'tls_cert_file = "{server.cert_file}"\ntls_key_file = "{server.key_file}"\n'
        f'client_ca_file = "{fleet.cert_file}"\nclient_crl_file = "{crl}"\n',
        encoding="utf-8",
    )
    (tmp_path / "devices.toml").write_text("devices = []\n")
    return path


def test_config_check_accepts_the_fleet_cas_crl(
    tmp_path: Path, cas: tuple[pki.CADirectory, pki.CADirectory],
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    fleet, _ = cas
    assert backoffice(["config", "check", str(_booking_toml(tmp_path, fleet, fleet.crl_file))]) == 0
    assert capsys.readouterr().out.strip().endswith(": OK")


def test_config_check_refuses_another_cas_crl_in_one_line(
    tmp_path: Path, cas: tuple[pki.CADirectory, pki.CADirectory],
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Another CA's CRL would make OpenSSL refuse every kiosk ("unable to get certificate CRL")."""
    fleet, other = cas
    path = _booking_toml(tmp_path, fleet, other.crl_file)
    assert backoffice(["config", "check", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{path}: api.client_crl_file = {other.crl_file}: not signed by")
    assert "copy the crl.pem of the CA that issued the kiosks' certificates" in lines[0]


def test_config_check_refuses_a_garbled_crl(
    tmp_path: Path, cas: tuple[pki.CADirectory, pki.CADirectory],
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    fleet, _ = cas
    garbled = tmp_path / "crl.pem"
    garbled.write_text(fleet.crl_file.read_text()[:100])
    assert backoffice(["config", "check", str(_booking_toml(tmp_path, fleet, garbled))]) == 2
    assert "api.client_crl_file" in (err := capsys.readouterr().err)
    assert "not a readable PEM CRL" in err


def test_a_crl_is_warned_about_30_days_ahead_and_refused_once_run_out(
    cas: tuple[pki.CADirectory, pki.CADirectory],
) -> None:
    fleet, _ = cas
    next_update = pki.load_crl(fleet.crl_file).next_update_utc
    assert next_update is not None
    assert crl_problems(fleet.cert_file, fleet.crl_file, next_update - dt.timedelta(days=31)) == []
    ((severity, message),) = crl_problems(
        fleet.cert_file, fleet.crl_file, next_update - dt.timedelta(days=29)
    )
    assert severity == "warning" and "provision ca crl" in message
    assert message.startswith(f"client CRL next update is due {next_update:%Y-%m-%d %H:%M} UTC")
    ((severity, message),) = crl_problems(
        fleet.cert_file, fleet.crl_file, next_update + dt.timedelta(seconds=1)
    )
    assert severity == "error" and "every client is refused at the handshake" in message
    assert message.startswith("client CRL next update was due")


def test_a_crl_without_a_client_ca_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"client_crl_file needs api\.client_ca_file"):
        parse(ApiConfig, {"tls_cert_file": "/c", "tls_key_file": "/k", "client_crl_file": "/r"})
