"""Writing a token as a QR code PNG with zxing-cpp (alphanumeric mode, error correction M)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import zxingcpp
from PIL import Image

QUIET_MODULES = 4
"""The QR standard's quiet zone: 4 modules of white all round (drawn here, whatever the
zxing-cpp version's default)."""


def qr_image(text: str, *, scale: int = 8) -> Image.Image:
    """The QR code of `text` as a greyscale image, `scale` pixels per module, with a quiet zone
    of `QUIET_MODULES` modules."""
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    pixels = np.asarray(
        zxingcpp.write_barcode_to_image(barcode, scale=scale, add_quiet_zones=False)
    )
    padded = np.pad(pixels.astype(np.uint8), QUIET_MODULES * scale, constant_values=255)
    return Image.fromarray(padded, mode="L")


def write_qr_png(text: str, path: Path, *, scale: int = 8) -> Path:
    """Write the QR code of `text` to a PNG file; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    qr_image(text, scale=scale).save(path, format="PNG")
    return path
