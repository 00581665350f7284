"""What the kiosk prints, through the engine: codes a person can type, a slip that says enough."""

from __future__ import annotations

import re

from kiosk.domain import events
from receipts import QrCode, lines_of
from tests.kiosk.rig import Rig
from uplink.booking import codes

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
