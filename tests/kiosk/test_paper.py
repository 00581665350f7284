"""What the kiosk prints, through the engine: codes a person can type, a slip that says enough."""

from __future__ import annotations

import re

import pytest

from kiosk.domain import events
from receipts import QrCode, lines_of
from tests.kiosk.rig import Rig
from uplink.booking import codes
from uplink.errors import MessageError
from uplink.messages import catalog

HEX_ID = re.compile(r"[0-9a-f]{16,}", re.IGNORECASE)


def test_a_walk_in_ticket_is_tracked_by_a_short_code_not_the_checkin_id(rig: Rig) -> None:
    rig.walkin("JKK")

    [job] = rig.printer.jobs
    lines = lines_of(job.elements)
    checkin_id = rig.events.of(events.TICKET)[0]["checkin_id"]
    code = codes.walkin_code(checkin_id)
    assert codes.display(code) in lines  # XXX-XXX-XXX: typed back with or without dashes
    assert not any(HEX_ID.search(line) for line in lines)
    [qr] = [e for e in job.elements if isinstance(e, QrCode)]
    assert qr.content.endswith(f"ref={code}")


def test_the_walk_in_code_on_the_ticket_is_in_its_ticket_issued_event(rig: Rig) -> None:
    """GIVEN a walk-in and a booking checked in
    THEN the walk-in's kiosk.ticket.issued carries the code printed on its tracking line (the
    back office finds the check-in by what the participant types), valid against the schema;
    the booking's carries none (its booking code is the booking's id)."""
    rig.walkin("JKM")
    rig.checkin(rig.token("960443TY2"))

    walkin, booking = rig.events.of(events.TICKET)
    printed = lines_of(rig.printer.jobs[0].elements)
    assert codes.display(walkin["walkin_code"]) in printed
    assert walkin["walkin_code"] == codes.walkin_code(walkin["checkin_id"])
    assert "walkin_code" not in booking
    ticket_issued = catalog().get(events.TICKET)
    for payload in (walkin, booking):
        catalog().validate_payload(ticket_issued, payload)
    for bad in ("960-443-TY2", "960443TYI", walkin["checkin_id"]):
        with pytest.raises(MessageError, match="walkin_code"):
            catalog().validate_payload(ticket_issued, {**walkin, "walkin_code": bad})


def test_a_booking_ticket_shows_the_booking_code_in_the_one_format(rig: Rig) -> None:
    rig.checkin(rig.token("960443TY2"))

    lines = lines_of(rig.printer.jobs[-1].elements)
    assert "Booking: 960-443-TY2" in lines
    assert "960-443-TY2" in lines  # the tracking line under the QR


def test_the_referral_slip_carries_branch_date_time_and_reason(rig: Rig) -> None:
    rig.thermometer.set_object(38.2)

    rig.checkin(rig.token("B0000012"))

    [slip] = rig.printer.jobs
    lines = lines_of(slip.elements)
    assert rig.config.tickets.branch_name in lines
    assert "15-06-2026 09:30" in lines  # the pinned clock, Jakarta time
    text = " ".join(lines)
    assert "Alasan: suhu tubuh di atas batas" in text
    assert "Reason: body temperature above the limit" in text
    assert "38" not in text  # the reason in words, never the reading
