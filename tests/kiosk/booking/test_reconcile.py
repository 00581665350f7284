"""Duplicate check-ins across kiosks, reconciled through uplink events and the day list."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backoffice.bookings.issuer import day_document
from backoffice.receiver import Receiver
from backoffice.store import SqliteEventStore
from kiosk.booking import open_booking
from kiosk.booking.ledger import Duplicate
from kiosk.booking.sync import BookingSync
from tests.backoffice.bookings.helpers import BRANCH, DAY, kiosk_config, make_backoffice, serving
from tests.conftest import UplinkFactory
from uplink.clock import ManualClock

AT_DOOR = datetime(2020, 6, 15, 2, 10, tzinfo=UTC)  # 09:10 WIB


def _accepted(booking_id: str, number: int) -> dict[str, Any]:
    """A kiosk.checkin.accepted payload, as the check-in engine records it."""
    return {
        "checkin_id": f"c{number}",
        "kind": "booking",
        "priority_class": "online",
        "service": "JHT",
        "ticket_number": f"JHT A1-{number:03d}",
        "party_size": 1,
        "wait_outside": False,
        "temperature": "passed",
        "booking_id": booking_id,
    }


def test_offline_double_check_in_is_found_and_a_third_kiosk_refuses(
    tmp_path: Path, backoffice: Receiver, make_uplink: UplinkFactory
) -> None:
    """GIVEN kiosks 1 and 2 both checked in one booking while offline
    WHEN their check-in events reach the back office and the kiosks sync
    THEN kiosk 2 learns of the duplicate, the back office lists it, kiosk 3 refuses a replay."""
    office = make_backoffice(tmp_path)
    token = office.issue(9)
    booking_id = office.store.day(BRANCH, DAY)[0].booking.booking_id
    clock = ManualClock(AT_DOOR)
    events = backoffice.store
    assert isinstance(events, SqliteEventStore)
    with serving(office, events=events) as api:
        kiosks = {
            name: open_booking(
                kiosk_config(tmp_path, office, kiosk_id=name, api_base_url=api.url), clock=clock
            )
            for name in ("kiosk-1", "kiosk-2", "kiosk-3")
        }
        for number, name in enumerate(("kiosk-1", "kiosk-2"), start=1):
            kiosk = kiosks[name]
            assert kiosk.verifier.verify(token, AT_DOOR).accepted
            assert kiosk.ledger.claim(booking_id, name, AT_DOOR)
            uplink = make_uplink(name)
            uplink.record(
                "kiosk.checkin.accepted", _accepted(booking_id, number), occurred_at=AT_DOOR
            )
            assert uplink.wait_drained(20)

        found: list[Duplicate] = []
        second = kiosks["kiosk-2"]
        sync = BookingSync(
            second.config, second.cache, second.ledger, clock=clock, on_duplicate=found.append
        )
        report = sync.sync_once()
        assert report.ok
        assert [(d.booking_id, d.local_kiosk, d.remote_kiosk) for d in found] == [
            (booking_id, "kiosk-2", "kiosk-1")
        ]

        third = kiosks["kiosk-3"]
        assert third.verifier.verify(token, AT_DOOR).accepted  # not yet synced
        assert third.sync.sync_once().remote_checkins == 1
        refused = third.verifier.verify(token, AT_DOOR)
        assert refused.reason == "already_checked_in"
        assert "09.10 WIB" in refused.message_id

    duplicates = office.store.duplicate_checkins(BRANCH, DAY)
    assert sorted(kiosk for kiosk, _ in duplicates[booking_id]) == ["kiosk-1", "kiosk-2"]
    assert b'"kiosk_id":"kiosk-1"' in day_document(office.store, BRANCH, DAY)
