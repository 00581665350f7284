"""Ticket bytes rendered to PNG: a golden image, and zxing-cpp reads the tracking QR back."""

from __future__ import annotations

import io
import itertools
import os
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from kiosk.domain.screens import GET_WELL, REFERRAL_STEPS
from kiosk.domain.tickets import ReferralSlip, Ticket, layout, referral_layout
from receipts import EscposRenderError, Line
from receipts.escpos_printer import escpos_bytes as ticket_bytes
from receipts.render import mono_font, render, render_png

GOLDEN = Path(__file__).parent / "golden" / "ticket-jht-a1-007.png"
URL = "https://lapakasik.bpjsketenagakerjaan.go.id/lacak?ref=960443TY2"
TICKET = Ticket(
    checkin_id="c1",
    number="JHT A1-007",
    service="JHT",
    klass="online",
    branch_name="KCP Jakarta Salemba",
    issued_at=datetime(2026, 6, 15, 9, 31),
    track_ref="960443TY2",
    track_url=URL,
    masked_name="B*** S******",
    booking_id="960443TY2",
    people_ahead=4,
)


def test_the_ticket_renders_like_the_golden_image() -> None:
    png = render_png(ticket_bytes(layout(TICKET)))
    if os.environ.get("KIOSK_UPDATE_GOLDEN") == "1":
        GOLDEN.write_bytes(png)  # review the image, then commit it
    ours = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.int16)
    golden = np.asarray(Image.open(GOLDEN).convert("L"), dtype=np.int16)

    assert ours.shape == golden.shape
    differing = np.count_nonzero(np.abs(ours - golden) > 64) / ours.size
    assert differing < 0.002, f"{differing:.2%} of pixels differ; KIOSK_UPDATE_GOLDEN=1 to accept"


def test_zxing_reads_the_tracking_qr_back_from_the_printed_ticket() -> None:
    image = render(ticket_bytes(layout(TICKET)))

    found = [b.text for b in zxingcpp.read_barcodes(image) if b.valid]

    assert found == [URL]


def test_a_58_mm_ticket_is_384_dots_plus_margins_and_an_80_mm_one_576() -> None:
    assert render(ticket_bytes(layout(TICKET))).width == 384 + 16
    wide = render(ticket_bytes(layout(TICKET, columns=48), columns=48), paper_dots=576)
    assert wide.width == 576 + 16


SLIP = ReferralSlip(
    branch_name="KCP Jakarta Salemba",
    issued_at=datetime(2026, 6, 15, 9, 40),
    reason="temperature",
    steps=(*REFERRAL_STEPS, GET_WELL),
)


def test_the_referral_slip_renders_without_a_qr() -> None:
    image = render(ticket_bytes(referral_layout(SLIP)))

    assert image.height > 200
    assert zxingcpp.read_barcodes(image) == []


def test_the_printed_qr_has_a_quiet_zone_of_four_modules() -> None:
    """GIVEN the ticket as printed WHEN the QR's dark modules are found THEN the paper around
    them is blank for at least 4 modules (6 dots each) on every side."""
    image = np.asarray(render(ticket_bytes(layout(TICKET))).convert("L"))
    [code] = zxingcpp.read_barcodes(image)
    xs = [p.x for p in (code.position.top_left, code.position.bottom_right)]
    ys = [p.y for p in (code.position.top_left, code.position.bottom_right)]
    quiet = 4 * 6
    top, bottom, left, right = min(ys), max(ys), min(xs), max(xs)
    around = image[top - quiet : bottom + quiet + 1, left - quiet : right + quiet + 1].copy()
    around[quiet:-quiet, quiet:-quiet] = 255  # the symbol itself
    assert around.shape == (bottom - top + 1 + 2 * quiet, right - left + 1 + 2 * quiet)
    assert around.min() > 128, "ink inside the QR's quiet zone"


def test_letters_are_evenly_spaced_in_a_monospace_font() -> None:
    """ "Booking" printed, not "Book ing": the blank between letters never exceeds 4 dots."""
    assert mono_font(False) is not None, "install fonts-dejavu-core (scripts/setup.sh does)"
    line = np.asarray(render(ticket_bytes([Line("Booking")])).convert("L"))[:24]
    ink = np.flatnonzero((line < 128).any(axis=0))
    gaps = [int(b - a - 1) for a, b in itertools.pairwise(ink) if b - a > 1]
    assert len(gaps) == len("Booking") - 1
    assert max(gaps) <= 4, gaps


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x1b@\x1bZ\x00", "unsupported command ESC 'Z'"),
        (b"\x1b@\x1d(k\x10\x001P0abc", "truncated"),
        (b"\x07", "unsupported control byte 0x07"),
    ],
)
def test_bytes_the_renderer_does_not_know_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(EscposRenderError, match=message):
        render(data)
