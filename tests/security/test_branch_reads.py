"""The booking API under mutual TLS: a kiosk reads only its own branch's lists.

Real TLS with certificates from the project's CA (`provision device init`), the registry from
`provision fleet registry`: another branch's day list or cancellations are a 403 in JSON, to a
kiosk of another branch, a dropbox, or a certificate the registry does not list. A certificate
revoked with `provision ca revoke` gets no connection, as soon as the CRL is rewritten; a CRL
that runs out while the API serves is said in its log, systemd's status and /healthz.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from backoffice.bookings import BookingApi
from backoffice.bookings.config import ApiConfig
from backoffice.errors import BackofficeError
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


def _run_out_crl(ca: pki.CADirectory) -> bytes:
    """The CA's CRL with its dates pinned in early 2020: run out on any clock, OpenSSL's too."""
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.ca.cert.subject)
        .last_update(datetime(2020, 1, 1, tzinfo=UTC))
        .next_update(datetime(2020, 2, 1, tzinfo=UTC))
        .sign(ca.ca.key, hashes.SHA256())
    )
    return crl.public_bytes(serialization.Encoding.PEM)


def _eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20  # the serve loop looks every 50 ms: a loaded machine
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


def test_a_crl_that_runs_out_while_the_api_serves_is_said_and_a_renewed_one_ends_it(
    served: Served, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN the API serving a kiosk under systemd WHEN a CRL past its next update is in force
    (every kiosk refused at the handshake) THEN the API says so by itself: an ERROR with the
    fix, systemd's status line, a 503 at /healthz; WHEN `provision ca crl` re-signs it THEN the
    kiosk reads again and the API says it is in force again."""
    clock = served.api.clock
    assert isinstance(clock, ManualClock)
    assert served.get(KIOSK, "/healthz").text == "ok\n"
    crl = served.base / "ca" / "crl.pem"
    name = f"lapak-test-notify-{os.getpid()}-{id(served)}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind("\0" + name)
        notify.settimeout(20)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        with caplog.at_level(logging.INFO, logger="backoffice.bookings.crl_watch"):
            crl.with_suffix(".new").write_bytes(_run_out_crl(pki.CADirectory(crl.parent)))
            crl.with_suffix(".new").replace(crl)
            clock.advance(2)  # the API's own clock: the watch looks once a second of it
            _eventually(lambda: "was due" in caplog.text, "the run-out CRL said in the log")
            (alert,) = [r for r in caplog.records if r.levelno == logging.ERROR]
            assert alert.getMessage().startswith(
                "client CRL next update was due 2020-02-01 00:00 UTC ("
            )
            assert "every client is refused at the handshake" in alert.getMessage()
            assert "provision ca crl --dir CA" in alert.getMessage()
            assert notify.recv(4096).decode() == f"STATUS=serving; {alert.getMessage()}"
            with pytest.raises(requests.exceptions.ConnectionError):
                served.get(KIOSK, "/healthz")  # OpenSSL's refusal, on its own (wall) clock
            with pytest.raises(BackofficeError) as unhealthy:
                served.api.answer("/healthz", {})
            assert getattr(unhealthy.value, "status", None) == 503
            assert str(unhealthy.value) == alert.getMessage()

            assert provision(["ca", "crl", "--dir", str(crl.parent)]) == 0
            clock.advance(2)
            _eventually(lambda: "in force again" in caplog.text, "the renewed CRL said")
        assert notify.recv(4096) == b"STATUS=serving"
    assert served.get(KIOSK, "/healthz").text == "ok\n"
    path, day = f"/v1/branches/{BRANCH}/bookings", DAY.isoformat()
    assert served.get(KIOSK, path, date=day).status_code == 200


def test_healthz_warns_while_the_crl_is_due(served: Served) -> None:
    """Placed 10 days before the CRL's own next update, the API's /healthz still answers "ok"
    with a warning line that says when and the fix."""
    clock = served.api.clock
    assert isinstance(clock, ManualClock)
    next_update = pki.load_crl(served.base / "ca" / "crl.pem").next_update_utc
    assert next_update is not None
    clock.advance((next_update - dt.timedelta(days=10) - clock.now()).total_seconds())
    _eventually(lambda: served.get(KIOSK, "/healthz").text != "ok\n", "the warning at /healthz")
    ok, warning = served.get(KIOSK, "/healthz").text.splitlines()
    assert ok == "ok"
    assert warning.startswith("warning: client CRL next update is due ")
    assert "(in 10 days): from then every client is refused" in warning
