"""Sync and lookup over mutual TLS with the fleet PKI: a kiosk without a certificate is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from pydantic import ValidationError

from backoffice.bookings import BookingApi
from backoffice.bookings.config import ApiConfig
from kiosk.booking import BookingConfig, open_booking
from provisioning.pki import CertificateAuthority, issue_identity
from tests.backoffice.bookings.helpers import (
    BRANCH,
    BRANCH_KIOSKS,
    DAY,
    kiosk_config,
    make_backoffice,
)
from uplink.clock import ManualClock

AT_DOOR = datetime(2020, 6, 15, 2, 10, tzinfo=UTC)


def test_kiosk_syncs_and_looks_up_over_mutual_tls(tmp_path: Path) -> None:
    ca = CertificateAuthority.create("lapak test fleet CA")
    server = issue_identity(ca, tmp_path / "pki", "backoffice", server_names=["127.0.0.1"])
    client = issue_identity(ca, tmp_path / "pki", "kiosk-1")
    office = make_backoffice(tmp_path)
    office.issue(9)
    booking_id = office.store.day(BRANCH, DAY)[0].booking.booking_id
    config = office.config.model_copy(
        update={"api": ApiConfig(port=0, tls_cert_file=server.cert_file,
                                 tls_key_file=server.key_file, client_ca_file=server.ca_file)}
    )  # fmt: skip
    api = BookingApi(config, office.issuer, registry=lambda: BRANCH_KIOSKS)
    api.start()
    try:
        assert api.url.startswith("https://127.0.0.1:")
        kiosk = open_booking(
            kiosk_config(tmp_path, office, api_base_url=api.url, tls_ca_file=client.ca_file,
                         tls_cert_file=client.cert_file, tls_key_file=client.key_file),
            clock=ManualClock(AT_DOOR),
        )  # fmt: skip
        assert kiosk.sync.sync_once().ok
        assert kiosk.lookup.lookup(booking_id, AT_DOOR).reason == "ok"

        anonymous = requests.Session()
        anonymous.verify = str(client.ca_file)
        with pytest.raises(requests.exceptions.SSLError):  # no client certificate
            anonymous.get(api.url + "/v1/trust-list", timeout=5)
        with pytest.raises(requests.exceptions.SSLError):  # server not trusted without the CA
            requests.get(api.url + "/healthz", timeout=5)
        plain = api.url.replace("https://", "http://")
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(plain + "/healthz", timeout=5)
        assert requests.get(api.url + "/healthz", verify=str(client.ca_file),
                            cert=(str(client.cert_file), str(client.key_file)),
                            timeout=5).text == "ok\n"  # fmt: skip
    finally:
        api.stop()


def test_tls_settings_are_checked_together(tmp_path: Path) -> None:
    office = make_backoffice(tmp_path)
    with pytest.raises(ValidationError, match="together"):
        kiosk_config(tmp_path, office, api_base_url="https://x", tls_cert_file=tmp_path / "c")
    with pytest.raises(ValidationError, match="https://"):
        kiosk_config(tmp_path, office, api_base_url="http://x", tls_ca_file=tmp_path / "ca")
    with pytest.raises(ValidationError, match="together"):
        ApiConfig(tls_cert_file=tmp_path / "c")
    with pytest.raises(ValidationError, match="client_ca_file needs"):
        ApiConfig(client_ca_file=tmp_path / "ca")
    assert isinstance(kiosk_config(tmp_path, office), BookingConfig)
