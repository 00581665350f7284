"""Booking QR PNGs: the quiet zone the QR standard asks for, and a code that reads back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import zxingcpp
from PIL import Image

from backoffice.bookings.qr import QUIET_MODULES, write_qr_png


def test_a_booking_qr_png_has_four_modules_of_white_all_round(tmp_path: Path) -> None:
    png = write_qr_png("LA1:EXAMPLE-TOKEN-0123456789", tmp_path / "b.png", scale=8)
    pixels = np.asarray(Image.open(png).convert("L"))
    dark_rows = np.flatnonzero((pixels < 128).any(axis=1))
    dark_cols = np.flatnonzero((pixels < 128).any(axis=0))

    assert QUIET_MODULES == 4
    margins = {
        int(dark_rows[0]),
        int(pixels.shape[0] - 1 - dark_rows[-1]),
        int(dark_cols[0]),
        int(pixels.shape[1] - 1 - dark_cols[-1]),
    }
    assert margins == {4 * 8}
    [code] = zxingcpp.read_barcodes(pixels)
    assert code.text == "LA1:EXAMPLE-TOKEN-0123456789"
