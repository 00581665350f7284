"""The back-office rig: a reference back office (issuer on a manual clock) and the booking API on
loopback; fixtures `office` and `api` (a plugin of tests/conftest.py: the kiosk's booking tests
and the security tests share them)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from backoffice.bookings import BookingApi, BookingsConfig, BookingStore, Issuer
from backoffice.bookings.checkins import CheckinEvents, CheckinImporter
from backoffice.bookings.config import ApiConfig
from kiosk.booking import BookingConfig
from uplink.clock import ManualClock
from uplink.registry import DeviceRegistry

BRANCH = "jakarta-salemba"
DAY = date(2020, 6, 15)
# 06:00 WIB on the day: bookings for the day can still be issued.
MORNING = datetime(2020, 6, 14, 23, 0, tzinfo=UTC)


@dataclass
class BackOffice:
    """The parts of a running reference back office."""

    config: BookingsConfig
    store: BookingStore
    issuer: Issuer
    clock: ManualClock

    def issue(self, start: int = 9, **changes: Any) -> str:
        """Issue a one-hour JHT booking at `start` o'clock on DAY; returns the token."""
        fields: dict[str, Any] = {
            "branch": BRANCH,
            "service": "JHT",
            "day": DAY,
            "start": time(start),
            "end": time(start + 1),
            "name": "Budi Santoso",
        }
        fields.update(changes)
        return self.issuer.issue(**fields).token


def make_backoffice(tmp_path: Path, clock: ManualClock | None = None) -> BackOffice:
    """A back office with a root and one signing key, its clock at MORNING."""
    config = BookingsConfig(
        database_path=tmp_path / "bo" / "bookings.db",
        keys_dir=tmp_path / "bo" / "keys",
        api=ApiConfig(port=0),
    )
    clock = clock or ManualClock(MORNING)
    store = BookingStore(config.database_path)
    issuer = Issuer(config, store, clock=clock)
    issuer.keygen()
    return BackOffice(config, store, issuer, clock)


# The kiosks the tests' back office knows: kiosk-1 .. kiosk-3 of BRANCH.
KIOSKS = ("kiosk-1", "kiosk-2", "kiosk-3")


def registry_of(devices: dict[str, tuple[str, str]]) -> DeviceRegistry:
    """A device registry from {device id: (role, branch)}."""
    return DeviceRegistry.model_validate(
        {"devices": [{"device_id": d, "role": r, "branch": b} for d, (r, b) in devices.items()]}
    )


BRANCH_KIOSKS = registry_of(dict.fromkeys(KIOSKS, ("kiosk", BRANCH)))


@contextmanager
def serving(
    office: BackOffice,
    events: CheckinEvents | None = None,
    registry: DeviceRegistry = BRANCH_KIOSKS,
) -> Iterator[BookingApi]:
    """The booking API on a free loopback port, stopped afterwards; check-ins are taken from
    `events` for the kiosks `registry` lists."""
    importer = None
    if events is not None:
        importer = CheckinImporter(
            events, office.store, office.config.checkin_event_types, lambda: registry
        )
    api = BookingApi(office.config, office.issuer, importer=importer, registry=lambda: registry)
    api.start()
    try:
        yield api
    finally:
        api.stop()


def kiosk_config(
    tmp_path: Path, office: BackOffice, *, kiosk_id: str = "kiosk-1", **changes: Any
) -> BookingConfig:
    """A kiosk `[booking]` table trusting the office's root, with its trust list installed."""
    where = tmp_path / kiosk_id
    where.mkdir(parents=True, exist_ok=True)
    trust = where / "trust-list.json"
    trust.write_bytes(office.issuer.trust_list())
    fields: dict[str, Any] = {
        "kiosk_id": kiosk_id,
        "branch": BRANCH,
        "trust_anchors": [office.issuer.root_public_key()],
        "trust_list_path": trust,
        "cache_dir": where / "cache",
        "ledger_path": where / "ledger.db",
        "retry_backoff_s": 0,
        "connect_timeout_s": 2,
        "read_timeout_s": 2,
    }
    fields.update(changes)
    return BookingConfig.model_validate(fields)


@pytest.fixture
def office(tmp_path: Path) -> BackOffice:
    """A back office with a root and one signing key, its clock at MORNING."""
    return make_backoffice(tmp_path)


@pytest.fixture
def api(office: BackOffice) -> Iterator[BookingApi]:
    """`office`'s booking API serving on a free loopback port."""
    with serving(office) as running:
        yield running
