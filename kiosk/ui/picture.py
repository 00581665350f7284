"""Camera frames made ready for the preview off Kivy's thread: shrunk to the panel, as bytes.

The camera delivers 640x480 (or larger) frames; the preview shows them in a box of a few hundred
pixels. Shrinking and copying them on the kiosk loop's thread leaves Kivy's thread a single
texture upload of the size actually shown (no conversion, no copy, smaller transfers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from kiosk.ports import Frame

PictureFormat = Literal["luminance", "bgr"]


@dataclass(frozen=True)
class PreviewImage:
    """One picture for the preview texture: tightly packed rows, top row first."""

    data: bytes
    width: int
    height: int
    fmt: PictureFormat


def preview_image(frame: Frame, fit: tuple[int, int] | None = None) -> PreviewImage:
    """`frame` (grayscale (H, W) or BGR (H, W, 3)) shrunk to fit `fit` (w, h), never enlarged.

    Args:
        frame: a camera frame.
        fit: the largest box the preview is drawn in on this panel (None: keep the size).
    """
    height, width = frame.shape[:2]
    fmt: PictureFormat = "luminance" if frame.ndim == 2 else "bgr"
    if fit is not None:
        k = min(fit[0] / width, fit[1] / height)
        if k < 1.0:
            size = (max(1, round(width * k)), max(1, round(height * k)))
            small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
            return PreviewImage(np.ascontiguousarray(small).tobytes(), *size, fmt)
    return PreviewImage(np.ascontiguousarray(frame).tobytes(), width, height, fmt)
