"""The booking API under mutual TLS: a kiosk reads only its own branch's lists.

Real TLS with certificates from the project's CA (`provision device init`), the registry from
`provision fleet registry`: another branch's day list or cancellations are a 403 in JSON, to a
kiosk of another branch, a dropbox, or a certificate the registry does not list. A certificate
revoked with `provision ca revoke` gets no connection, as soon as the CRL is rewritten.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from backoffice.bookings import BookingApi
from backoffice.bookings.config import ApiConfig
from configkit import load
from kiosk.booking import open_booking
from kiosk.config import KioskConfig
from provisioning import pki
from provisioning.__main__ import main as provision
from tests.backoffice.bookings.helpers import BRANCH, DAY, BackOffice, make_backoffice
from uplink.clock import ManualClock
from uplink.registry import RegistryFile

AT_DOOR = datetime(2020, 6, 15, 2, 10, tzinfo=UTC)
OTHER_BRANCH = "jakarta-cilandak"
KIOSK = f"{BRANCH}-kiosk-1"
DROPBOX = f"{BRANCH}-dropbox-1"
FOREIGN_KIOSK = f"{OTHER_BRANCH}-kiosk-1"


@dataclass
class Served:
    api: BookingApi
    office: BackOffice
    base: Path

    def kiosk(self, device_id: str) -> KioskConfig:
        return load(KioskConfig, self.base / device_id / "etc/lapak/kiosk.toml")

    def get(self, device_id: str, path: str, **params: str) -> requests.Response:
        """GET `path` showing `device_id`'s provisioned certificate."""
        pki_dir = self.base / device_id / "etc/lapak/pki"
        return requests.get(
            self.api.url + path, params=params, verify=str(pki_dir / "ca.crt"),
            cert=(str(pki_dir / "device.crt"), str(pki_dir / "device.key")), timeout=5,
        )  # fmt: skip


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """The booking API with mutual TLS from a fleet CA that provisioned a kiosk and a dropbox
    of BRANCH and a kiosk of OTHER_BRANCH, each told the API's https URL."""
    ca_dir = tmp_path / "ca"
    ca = pki.CADirectory.init(ca_dir, "Test fleet CA")
    server = pki.issue_identity(
        ca.ca, tmp_path / "api-pki", "booking-api", server_names=["127.0.0.1"]
    )
    office = make_backoffice(tmp_path)
    office.issue(9)
    registry_file = tmp_path / "devices.toml"
    config = office.config.model_copy(update={
        "device_registry_path": registry_file,
        "api": ApiConfig(port=0, tls_cert_file=server.cert_file, tls_key_file=server.key_file,
                         client_ca_file=ca.cert_file, client_crl_file=ca.crl_file),
    })  # fmt: skip
    registry_file.write_text("devices = []\n")
    registry = RegistryFile(registry_file)
    api = BookingApi(config, office.issuer, registry=registry.current)
    api.start()
    try:
        anchor = office.issuer.root_public_key()
        for device_id, role, branch in ((KIOSK, "kiosk", BRANCH), (DROPBOX, "dropbox", BRANCH),
                                        (FOREIGN_KIOSK, "kiosk", OTHER_BRANCH)):  # fmt: skip
            more = ["--trust-anchor", anchor, "--api-url", api.url] if role == "kiosk" else []
            code = provision([
                "device", "init", "--role", role, "--branch", branch, "--id", device_id,
                "--root", str(tmp_path / device_id), "--ca", str(ca_dir),
                "--broker-host", "127.0.0.1", *more,
            ])  # fmt: skip
            assert code == 0
        assert (
            provision(["fleet", "registry", "--ca", str(ca_dir), "--out", str(registry_file)]) == 0
        )
        yield Served(api, office, tmp_path)
    finally:
        api.stop()


def test_provisioning_gives_the_kiosk_its_certificate_for_the_api(served: Served) -> None:
    booking = served.kiosk(KIOSK).booking
    uplink = served.kiosk(KIOSK).uplink.broker
    assert booking.api_base_url == served.api.url
    assert (booking.tls_ca_file, booking.tls_cert_file, booking.tls_key_file) == (
        uplink.ca_file, uplink.cert_file, uplink.key_file,
    )  # fmt: skip


def test_a_kiosk_syncs_its_own_branch_over_mutual_tls(served: Served) -> None:
    kiosk = open_booking(served.kiosk(KIOSK).booking, clock=ManualClock(AT_DOOR))
    report = kiosk.sync.sync_once()
    assert report.ok, report.errors
    day = kiosk.cache.day_bookings()
    assert day is not None and day.day == DAY and len(day.tokens) == 1


@pytest.mark.parametrize("route", ["bookings", "cancellations"])
@pytest.mark.parametrize(
    ("device_id", "branch", "said"),
    [
        (KIOSK, OTHER_BRANCH, f"a kiosk of {BRANCH} reads only its own branch's lists"),
        (FOREIGN_KIOSK, BRANCH, f"a kiosk of {OTHER_BRANCH} reads only its own branch's lists"),
        (DROPBOX, BRANCH, "is not a kiosk in the device registry"),
    ],
)
def test_another_branchs_lists_are_forbidden(
    served: Served, route: str, device_id: str, branch: str, said: str
) -> None:
    answer = served.get(device_id, f"/v1/branches/{branch}/{route}", date=DAY.isoformat())
    assert answer.status_code == 403
    assert answer.headers["Content-Type"] == "application/json"
    assert said in answer.json()["error"]
    assert "token" not in answer.text


def test_the_fleets_documents_stay_readable_to_every_certificate(served: Served) -> None:
    for device_id in (KIOSK, FOREIGN_KIOSK, DROPBOX):
        assert served.get(device_id, "/v1/trust-list").status_code == 200
        assert served.get(device_id, "/v1/branches").status_code == 200
    own = served.get(FOREIGN_KIOSK, f"/v1/branches/{OTHER_BRANCH}/bookings", date=DAY.isoformat())
    assert own.status_code == 200 and own.json()["bookings"] == []


def test_a_certificate_the_registry_does_not_list_reads_no_branch(served: Served) -> None:
    """A kiosk provisioned after the registry was exported is refused until it is exported."""
    registry = served.base / "devices.toml"
    registry.write_text("devices = []\n")
    answer = served.get(KIOSK, f"/v1/branches/{BRANCH}/bookings", date=DAY.isoformat())
    assert answer.status_code == 403
    assert "export the registry again" in answer.json()["error"]
    ca = str(served.base / "ca")
    assert provision(["fleet", "registry", "--ca", ca, "--out", str(registry)]) == 0
    again = served.get(KIOSK, f"/v1/branches/{BRANCH}/bookings", date=DAY.isoformat())
    assert again.status_code == 200


def test_a_kiosk_of_another_branch_syncing_here_is_refused_and_keeps_its_data(
    served: Served,
) -> None:
    """The foreign kiosk misconfigured with this branch: the lists fail, nothing is taken."""
    config = served.kiosk(FOREIGN_KIOSK).booking.model_copy(update={"branch": BRANCH})
    kiosk = open_booking(config, clock=ManualClock(AT_DOOR))
    report = kiosk.sync.sync_once()
    assert report.outcomes["trust_list"] == "updated"
    assert report.outcomes["bookings"] == report.outcomes["cancellations"] == "failed"
    assert "403" in report.errors["bookings"]
    assert kiosk.cache.day_bookings() is None


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/branches/{BRANCH}/../{OTHER_BRANCH}/bookings",
        f"/v1/branches/{OTHER_BRANCH}%2Fbookings",
        f"/v1/branches/{OTHER_BRANCH.upper()}/bookings",
        f"/v1/branches/{OTHER_BRANCH}/bookings/",
        f"//v1/branches/{OTHER_BRANCH}/bookings",
    ],
)
def test_a_path_dressed_up_reads_no_other_branch(served: Served, path: str) -> None:
    """Variants of another branch's path: never its list, always a JSON refusal."""
    served.office.issue(10, branch=OTHER_BRANCH)
    answer = served.get(KIOSK, path, date=DAY.isoformat())
    assert answer.status_code in (403, 404)
    assert answer.headers["Content-Type"] == "application/json"
    assert "LA1:" not in answer.text
    own = served.get(FOREIGN_KIOSK, f"/v1/branches/{OTHER_BRANCH}/bookings", date=DAY.isoformat())
    assert "LA1:" in own.text  # what the refusals above kept from KIOSK


def test_a_revoked_kiosk_reads_nothing_as_soon_as_the_crl_is_rewritten(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    """GIVEN a kiosk reading its own branch's day list, the registry still listing it
    WHEN `provision ca revoke` revokes its certificate (the API reads that CA's crl.pem)
    THEN its next connection fails at the handshake, before any route, with no restart and no
    registry export; the revocation is logged; another kiosk still reads its own list."""
    path, day = f"/v1/branches/{BRANCH}/bookings", DAY.isoformat()
    assert served.get(KIOSK, path, date=day).status_code == 200
    ca = str(served.base / "ca")
    revoke = ["ca", "revoke", "--dir", ca, "--name", KIOSK, "--reason", "key_compromise"]
    assert provision(revoke) == 0
    with caplog.at_level(logging.INFO, logger="backoffice.bookings.api"):
        with pytest.raises(requests.exceptions.ConnectionError):
            served.get(KIOSK, path, date=day)
        with pytest.raises(requests.exceptions.ConnectionError):
            served.get(KIOSK, "/v1/trust-list")
    assert "certificate revoked" in caplog.text
    kiosk = open_booking(served.kiosk(KIOSK).booking, clock=ManualClock(AT_DOOR))
    report = kiosk.sync.sync_once()
    assert report.outcomes["bookings"] == "failed" and kiosk.cache.day_bookings() is None
    other = f"/v1/branches/{OTHER_BRANCH}/bookings"
    assert served.get(FOREIGN_KIOSK, other, date=day).status_code == 200


def test_a_garbled_crl_copied_in_keeps_the_last_good_one_in_force(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    """A half-copied crl.pem neither locks every kiosk out nor lets the revoked one back in."""
    ca = str(served.base / "ca")
    assert provision(["ca", "revoke", "--dir", ca, "--name", KIOSK]) == 0
    path, day = f"/v1/branches/{OTHER_BRANCH}/bookings", DAY.isoformat()
    assert served.get(FOREIGN_KIOSK, path, date=day).status_code == 200  # the new CRL read
    crl = served.base / "ca" / "crl.pem"
    crl.write_text(crl.read_text()[:200])
    with caplog.at_level(logging.ERROR, logger="backoffice.bookings.tls"):
        assert served.get(FOREIGN_KIOSK, path, date=day).status_code == 200
    assert "could not be read again" in caplog.text and "last good one" in caplog.text
    with pytest.raises(requests.exceptions.ConnectionError):
        served.get(KIOSK, f"/v1/branches/{BRANCH}/bookings", date=day)
