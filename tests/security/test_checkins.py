"""Forged check-ins against the day lists kiosks read: only real times near the booking's slot
are written, and whatever is written is in the one timestamp format kiosks parse."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import requests

from backoffice.store import SqliteEventStore
from tests.backoffice.bookings.helpers import BRANCH, DAY, make_backoffice, serving
from uplink.clock import utc_iso
from uplink.messages import Envelope, is_timestamp


def test_a_check_in_far_from_its_slot_never_reaches_the_day_list(tmp_path: Path) -> None:
    """A forged check-in at 0001-01-01 put a 1-digit year in the day list; kiosks refused it."""
    office = make_backoffice(tmp_path)
    office.issue(9)
    booking_id = office.store.day(BRANCH, DAY)[0].booking.booking_id
    events = SqliteEventStore(tmp_path / "events.db")
    payload = {
        "checkin_id": "c1", "kind": "booking", "priority_class": "online", "service": "JHT",
        "ticket_number": "JHT A1-001", "party_size": 1, "wait_outside": False,
        "temperature": "passed", "booking_id": booking_id,
    }  # fmt: skip
    forged = [
        ("01ARZ3NDEKTSV4RRFFQ69G5FA1", "0001-01-01T00:00:00.000Z"),
        ("01ARZ3NDEKTSV4RRFFQ69G5FA2", "9999-12-31T23:59:59.999Z"),
        ("01ARZ3NDEKTSV4RRFFQ69G5FA3", "2020-06-20T02:05:00.000Z"),  # five days off
        ("01ARZ3NDEKTSV4RRFFQ69G5FA4", "2020-06-15T02:05:00.000Z"),  # the real one
    ]
    envelopes = [
        Envelope(event_id, "kiosk-1", n + 1, "kiosk.checkin.accepted", 1, at, True, payload)
        for n, (event_id, at) in enumerate(forged)
    ]
    events.store_events(envelopes, "2020-06-15T02:08:00.000Z")
    with serving(office, events=events) as api:
        day = requests.get(f"{api.url}/v1/branches/{BRANCH}/bookings?date=2020-06-15", timeout=5)
    checkins = day.json()["bookings"][0]["checkins"]
    assert [c["at"] for c in checkins] == ["2020-06-15T02:05:00.000Z"]
    assert all(is_timestamp(c["at"]) for c in checkins)
    events.close()


def test_timestamps_are_written_with_four_digit_years() -> None:
    assert utc_iso(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00.000Z"
    assert utc_iso(datetime(999, 2, 3, 4, 5, 6, 7000, tzinfo=UTC)) == "0999-02-03T04:05:06.007Z"
    assert is_timestamp(utc_iso(datetime(1, 1, 1, tzinfo=UTC)))
