"""Ticket bytes rendered to PNG: a golden image, and zxing-cpp reads the tracking QR back."""

from __future__ import annotations

import io
import os
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from kiosk.domain.screens import referral_slip_lines
from kiosk.domain.tickets import Ticket, layout, referral_layout
from receipts.escpos_printer import escpos_bytes as ticket_bytes
from receipts.render import EscposRenderError, render, render_png

GOLDEN = Path(__file__).parent / "golden" / "ticket-jht-a1-007.png"
URL = "https://lapakasik.bpjsketenagakerjaan.go.id/lacak?ref=B0000007"
TICKET = Ticket(
    checkin_id="c1",
    number="JHT A1-007",
    service="JHT",
    klass="online",
    branch_name="KCP Jakarta Salemba",
    issued_at=datetime(2026, 6, 15, 9, 31),
    track_ref="B0000007",
    track_url=URL,
    masked_name="B*** S******",
    booking_id="B0000007",
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


def test_the_referral_slip_renders_without_a_qr() -> None:
    image = render(ticket_bytes(referral_layout(referral_slip_lines())))

    assert image.height > 200
    assert zxingcpp.read_barcodes(image) == []


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
