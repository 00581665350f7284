"""Forged check-ins: a booking is marked used only by a kiosk of its own branch, as the fleet CA
certified it (role and branch in the certificate, exported by `provision fleet registry`).

Over the real broker rendered from the fleet CA, with the receiver storing into SQLite and
PostgreSQL: a dropbox's certificate and another branch's kiosk send `kiosk.checkin.accepted`
for a booking; the events are stored, the booking is not marked used, and the branch's own
kiosk still checks the participant in.
"""

from __future__ import annotations

import base64
import logging
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from backoffice.bookings.checkins import CheckinImporter
from backoffice.bookings.config import BookingsConfig
from backoffice.config import BackofficeConfig
from backoffice.receiver import Receiver
from backoffice.stores import QueryableEventStore, open_store
from kiosk.booking import open_booking
from provisioning import pki
from provisioning.__main__ import main as provision
from provisioning.broker import free_port
from tests.backoffice.bookings.helpers import (
    BRANCH,
    DAY,
    kiosk_config,
    make_backoffice,
    registry_of,
    serving,
)
from tests.conftest import STORE_KINDS
from tests.security.conftest import Fleet
from uplink import Uplink, UplinkConfig
from uplink.booking.trustlist import raw_public
from uplink.clock import ManualClock
from uplink.messages import Envelope
from uplink.registry import RegistryFile

AT_DOOR = datetime(2020, 6, 15, 2, 10, tzinfo=UTC)  # 09:10 WIB, inside the 09:00 slot
OTHER_BRANCH = "jakarta-cilandak"
KIOSK = f"{BRANCH}-kiosk-1"
DROPBOX = f"{BRANCH}-dropbox-1"
FOREIGN_KIOSK = f"{OTHER_BRANCH}-kiosk-1"


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def accepted(booking_id: str, number: int = 1) -> dict[str, Any]:
    """A kiosk.checkin.accepted payload, as the check-in engine records it."""
    return {
        "checkin_id": f"c{number}", "kind": "booking", "priority_class": "online",
        "service": "JHT", "ticket_number": f"JHT A1-{number:03d}", "party_size": 1,
        "wait_outside": False, "temperature": "passed", "booking_id": booking_id,
    }  # fmt: skip


@pytest.fixture(scope="module")
def branches() -> Iterator[Fleet]:
    """A broker rendered from a fleet CA that certified a kiosk and a dropbox of BRANCH and a
    kiosk of OTHER_BRANCH, each with `provision device init`."""
    base = Path(tempfile.mkdtemp(prefix="lapak-origin-"))
    base.chmod(0o755)  # the `mosquitto` user traverses it once the broker has dropped root
    ca = pki.CADirectory.init(base / "ca", "Test fleet CA")
    fleet = Fleet(base, ca, free_port(), base / "broker")
    anchor = base64.b64encode(raw_public(Ed25519PrivateKey.generate().public_key())).decode()
    kiosk = ("--trust-anchor", anchor)
    assert fleet.provision(KIOSK, "kiosk", BRANCH, *kiosk) == 0
    assert fleet.provision(DROPBOX, "dropbox", BRANCH) == 0
    assert fleet.provision(FOREIGN_KIOSK, "kiosk", OTHER_BRANCH, *kiosk) == 0
    fleet.issue("backoffice")
    fleet.start()
    yield fleet
    fleet.stop()
    shutil.rmtree(base, ignore_errors=True)


def uplink_of(fleet: Fleet, device_id: str, tmp_path: Path) -> Uplink:
    config = UplinkConfig.model_validate({
        "device_id": device_id, "broker": fleet.identities[device_id],
        "outbox_path": tmp_path / f"{device_id}-outbox.db", "heartbeat_interval_s": 0,
        "reconnect_min_s": 0.05, "reconnect_max_s": 0.5,
    })  # fmt: skip
    uplink = Uplink(config)
    uplink.start()
    return uplink


def test_the_registry_names_each_device_as_its_certificate_does(
    branches: Fleet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "devices.toml"
    ca_dir = str(branches.ca.directory)
    assert provision(["fleet", "registry", "--ca", ca_dir, "--out", str(out)]) == 0
    registry = RegistryFile(out).current()
    assert registry.kiosk_branch(KIOSK) == BRANCH
    assert registry.kiosk_branch(FOREIGN_KIOSK) == OTHER_BRANCH
    dropbox = registry.get(DROPBOX)
    assert dropbox is not None and (dropbox.role, dropbox.branch) == ("dropbox", BRANCH)
    assert registry.kiosk_branch(DROPBOX) is None  # a dropbox is no kiosk
    assert registry.get("backoffice") is None  # certifies no role or branch: no device
    assert "left out" not in capsys.readouterr().err  # the back office is no device

    legacy = pki.CADirectory.init(tmp_path / "legacy-ca", "A CA from before")
    legacy.issue(pki.make_csr(pki.new_key(), "kiosk-old"))  # names no role or branch
    legacy.issue(pki.make_csr(pki.new_key(), "backoffice-rx-1"))
    legacy_out = str(tmp_path / "legacy.toml")
    assert provision(["fleet", "registry", "--ca", str(legacy.directory), "--out", legacy_out]) == 0
    said = capsys.readouterr().err
    assert "left out" in said and "kiosk-old" in said and "backoffice" not in said
    assert "provision device rotate" in said
    assert RegistryFile(Path(legacy_out)).current().devices == []
    subject = pki.load_cert(branches.base / "devices" / KIOSK / "etc/lapak/pki/device.crt")
    assert pki.device_identity(subject.subject) == ("kiosk", BRANCH)


def test_forged_check_ins_leave_the_booking_to_its_branch_kiosk(
    branches: Fleet, tmp_path: Path, store_config: dict[str, Any]
) -> None:
    """GIVEN a booking of BRANCH
    WHEN the branch's dropbox and another branch's kiosk report it checked in, over the broker
    THEN both events are stored, the booking is not marked used, and BRANCH's kiosk checks the
    participant in; its own check-in is then taken."""
    registry_file = tmp_path / "devices.toml"
    ca_dir = str(branches.ca.directory)
    assert provision(["fleet", "registry", "--ca", ca_dir, "--out", str(registry_file)]) == 0
    store = open_store(BackofficeConfig(broker=branches.identities["backoffice"], **store_config))
    receiver = Receiver(
        BackofficeConfig(broker=branches.identities["backoffice"], **store_config), store
    )
    receiver.start()
    uplinks: list[Uplink] = []
    try:
        assert receiver.wait_ready(10), "receiver did not subscribe"
        office = make_backoffice(tmp_path)
        token = office.issue(9)
        booking_id = office.store.day(BRANCH, DAY)[0].booking.booking_id
        for number, forger in enumerate((DROPBOX, FOREIGN_KIOSK), start=1):
            uplink = uplink_of(branches, forger, tmp_path)
            uplinks.append(uplink)
            uplink.record(
                "kiosk.checkin.accepted", accepted(booking_id, number), occurred_at=AT_DOOR
            )
            assert uplink.wait_drained(20), f"{forger}'s event was not stored"
        assert store.count("kiosk.checkin.accepted") == 2  # stored: evidence, not effect

        registry = RegistryFile(registry_file)
        with serving(office, events=store, registry=registry.current()) as api:
            importer = api.importer
            assert importer is not None
            kiosk = open_booking(
                kiosk_config(tmp_path, office, kiosk_id=KIOSK, api_base_url=api.url),
                clock=ManualClock(AT_DOOR),
            )
            assert kiosk.sync.sync_once().ok
            assert importer.refused == 2
            assert office.store.checkins([booking_id]) == {}
            assert kiosk.verifier.verify(token, AT_DOOR).accepted  # not "already checked in"

            own = uplink_of(branches, KIOSK, tmp_path)
            uplinks.append(own)
            own.record("kiosk.checkin.accepted", accepted(booking_id, 3), occurred_at=AT_DOOR)
            assert own.wait_drained(20)
            day = requests.get(
                f"{api.url}/v1/branches/{BRANCH}/bookings", params={"date": DAY.isoformat()},
                timeout=5,
            ).json()  # fmt: skip
        assert [c["kiosk_id"] for c in day["bookings"][0]["checkins"]] == [KIOSK]
    finally:
        for uplink in uplinks:
            uplink.stop()
        receiver.stop()
        store.close()


def _stored(store: QueryableEventStore, device: str, n: int, booking_id: str) -> Envelope:
    envelope = Envelope(
        f"01ARZ3NDEKTSV4RRFFQ69G5F{n:02d}", device, n, "kiosk.checkin.accepted", 1,
        "2020-06-15T02:05:00.000Z", True, accepted(booking_id, n),
    )  # fmt: skip
    store.store_events([envelope], "2020-06-15T02:08:00.000Z")
    return envelope


def test_only_a_registered_kiosk_of_the_bookings_branch_marks_it_used(
    tmp_path: Path, store_config: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """The import alone, on both stores: every other origin is refused, counted, and logged
    once a minute per device however often it tries."""
    broker = {"host": "127.0.0.1", "port": 1883, "tls": False}
    store = open_store(BackofficeConfig.model_validate({"broker": broker, **store_config}))
    office = make_backoffice(tmp_path)
    office.issue(9)
    booking_id = office.store.day(BRANCH, DAY)[0].booking.booking_id
    registry = registry_of({
        KIOSK: ("kiosk", BRANCH), DROPBOX: ("dropbox", BRANCH),
        FOREIGN_KIOSK: ("kiosk", OTHER_BRANCH),
    })  # fmt: skip
    current = [registry]
    importer = CheckinImporter(
        store, office.store, office.config.checkin_event_types, lambda: current[0]
    )
    try:
        forgers = [DROPBOX, FOREIGN_KIOSK, "kiosk-unknown", DROPBOX, DROPBOX]
        for n, device in enumerate(forgers, start=1):
            _stored(store, device, n, booking_id)
        with caplog.at_level(logging.WARNING, logger="backoffice.rejects"):
            assert importer.import_new() == 0
        assert importer.refused == 5
        assert office.store.checkins([booking_id]) == {}
        lines = [r.getMessage() for r in caplog.records if r.name == "backoffice.rejects"]
        assert len(lines) == 3, lines  # one per device, the dropbox's repeats counted in
        assert all("not a kiosk of its booking's branch" in line for line in lines)
        assert not any(booking_id in line for line in lines)  # the code fetches a token

        _stored(store, KIOSK, 9, booking_id)
        assert importer.import_new() == 1
        [(kiosk, _at)] = office.store.checkins([booking_id])[booking_id]
        assert kiosk == KIOSK

        # The unknown device was a new kiosk of the branch: exported, its check-in counts now.
        current[0] = registry_of({**{d.device_id: (d.role, d.branch) for d in registry.devices},
                                  "kiosk-unknown": ("kiosk", BRANCH)})  # fmt: skip
        assert importer.import_new() == 1
        assert sorted(k for k, _ in office.store.checkins([booking_id])[booking_id]) == [
            KIOSK, "kiosk-unknown",
        ]  # fmt: skip
        assert importer.refused == 5  # the dropbox's and the other branch's stay refused
    finally:
        store.close()


def test_the_ca_records_a_devices_role_and_branch_and_refuses_a_bad_one(tmp_path: Path) -> None:
    ca = pki.CADirectory.init(tmp_path / "ca", "Test fleet CA")
    ca.issue(pki.make_csr(pki.new_key(), KIOSK, role="kiosk", branch=BRANCH))
    [record] = ca.records()
    assert (record.role, record.branch) == ("kiosk", BRANCH)
    ca.issue(pki.make_csr(pki.new_key(), KIOSK, role="kiosk", branch=BRANCH), rotate=True)
    assert [(r.role, r.branch, r.active) for r in ca.records()] == [
        ("kiosk", BRANCH, False), ("kiosk", BRANCH, True),
    ]  # fmt: skip
    for role, branch, said in (("backoffice", BRANCH, "no device role"),
                               ("kiosk", "Jakarta Salemba", "branch")):  # fmt: skip
        with pytest.raises(pki.PkiError, match=said):
            ca.issue(pki.make_csr(pki.new_key(), "kiosk-9", role=role, branch=branch))
    assert len(ca.records()) == 2  # nothing signed for a refused subject


def test_an_event_store_or_mutual_tls_needs_the_registry(tmp_path: Path) -> None:
    base = {"database_path": tmp_path / "b.db", "keys_dir": tmp_path / "keys"}
    mutual_tls = {"tls_cert_file": "c", "tls_key_file": "k", "client_ca_file": "ca"}
    for extra in ({"event_store_path": tmp_path / "e.db"},
                  {"event_store_url": "postgresql://lapak@db:5432/lapak"},
                  {"api": mutual_tls}):  # fmt: skip
        with pytest.raises(ValueError, match="device_registry_path"):
            BookingsConfig.model_validate({**base, **extra})
        config = BookingsConfig.model_validate(
            {**base, **extra, "device_registry_path": tmp_path / "devices.toml"}
        )
        assert config.device_registry_path is not None
    with pytest.raises(ValueError, match="not both"):
        BookingsConfig.model_validate({**base, "event_store_path": "e.db",
                                       "event_store_url": "postgresql://x@y/z",
                                       "device_registry_path": "d.toml"})  # fmt: skip
