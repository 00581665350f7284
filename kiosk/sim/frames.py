"""Synthetic camera frames: a QR code as a kiosk camera sees it (phone screen, paper, bad light)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import cv2
import numpy as np
import numpy.typing as npt
import zxingcpp

Gray = npt.NDArray[np.uint8]


def _u8(image: Any) -> Gray:
    return cast(Gray, image)


FRAME_SIZE = (640, 480)


def qr_image(text: str, *, module_px: int = 4, quiet_modules: int = 2, ec_level: str = "M") -> Gray:
    """A clean black-on-white QR code of `text`, `module_px` pixels per module."""
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=ec_level)
    image = np.array(code.to_image(scale=module_px, add_quiet_zones=False), dtype=np.uint8)
    if image.ndim == 3:
        image = image[..., 0]
    pad = quiet_modules * module_px
    return np.pad(image, pad, constant_values=255)


def place(
    code: Gray,
    *,
    size: tuple[int, int] = FRAME_SIZE,
    background: int = 150,
    at: tuple[int, int] | None = None,
    scale: float = 1.0,
    rng: random.Random | None = None,
) -> Gray:
    """Put `code` (scaled by `scale`) on a textured background frame of `size` (w, h)."""
    rng = rng or random.Random(0)  # noqa: S311 - test imagery
    width, height = size
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 6, (height, width))
    frame = np.clip(background + noise, 0, 255).astype(np.uint8)
    if scale != 1.0:
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        code = _u8(cv2.resize(code, None, fx=scale, fy=scale, interpolation=interp))
    ch, cw = code.shape
    ch, cw = min(ch, height), min(cw, width)
    if at is None:
        at = (rng.randrange(0, width - cw + 1), rng.randrange(0, height - ch + 1))
    x, y = at
    frame[y : y + ch, x : x + cw] = code[:ch, :cw]
    return frame


def blank_frame(seed: int = 0, size: tuple[int, int] = FRAME_SIZE) -> Gray:
    """A frame with no code: an out-of-focus scene with some edges (a person, a wall)."""
    rng = np.random.default_rng(seed)
    width, height = size
    frame = np.clip(rng.normal(120, 25, (height, width)), 0, 255).astype(np.uint8)
    frame = _u8(cv2.GaussianBlur(frame, (0, 0), 3))
    for _ in range(6):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        cv2.rectangle(
            frame,
            (x, y),
            (x + int(rng.integers(20, 200)), y + int(rng.integers(20, 200))),
            int(rng.integers(0, 255)),
            -1,
        )
    return _u8(cv2.GaussianBlur(frame, (0, 0), 1.5))


# -- degradations -------------------------------------------------------------------------------


def low_contrast(frame: Gray, rng: random.Random) -> Gray:
    span = rng.uniform(0.12, 0.22)
    base = rng.uniform(90, 150)
    return _u8(np.clip(base + (frame.astype(np.float32) - 128) * span, 0, 255).astype(np.uint8))


def glare(frame: Gray, rng: random.Random) -> Gray:
    height, width = frame.shape
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = rng.uniform(0.3, 0.7) * width, rng.uniform(0.3, 0.7) * height
    sx, sy = rng.uniform(60, 140), rng.uniform(40, 100)
    blob = np.exp(-(((xx - cx) / sx) ** 2 + ((yy - cy) / sy) ** 2))
    out = frame.astype(np.float32) * (1 - 0.6 * blob) + 255 * 0.75 * blob
    return _u8(np.clip(out, 0, 255).astype(np.uint8))


def tilt(frame: Gray, rng: random.Random) -> Gray:
    height, width = frame.shape
    k = rng.uniform(0.18, 0.3)
    src = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    dx, dy = k * width, k * height * 0.5
    dst = np.array(
        [[dx, dy], [width - dx * 0.2, 0], [width, height], [dx * 0.6, height - dy]], np.float32
    )
    matrix = cv2.getPerspectiveTransform(src, dst)
    return _u8(cv2.warpPerspective(frame, matrix, (width, height), borderValue=(150,)))


def blur(frame: Gray, rng: random.Random) -> Gray:
    return _u8(cv2.GaussianBlur(frame, (0, 0), rng.uniform(1.6, 2.4)))


def dark(frame: Gray, rng: random.Random) -> Gray:
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 4, frame.shape)
    out = frame.astype(np.float32) * rng.uniform(0.1, 0.16) + noise
    return np.clip(out, 0, 255).astype(np.uint8)


def phone_screen(frame: Gray, rng: random.Random) -> Gray:
    """Pixel grid and moire of a phone screen filmed close up, slightly out of focus."""
    height, width = frame.shape
    period = rng.choice([3, 4])
    grid = np.ones((height, width), np.float32)
    grid[:, ::period] = 0.55
    grid[::period, :] = 0.55
    out = frame.astype(np.float32) * grid
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    out += 25 * np.sin((xx * 0.9 + yy * 0.35) / rng.uniform(2.5, 4.0))
    return np.clip(cv2.GaussianBlur(out, (0, 0), 0.8), 0, 255).astype(np.uint8)


def noisy(frame: Gray, rng: random.Random) -> Gray:
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 28, frame.shape)
    return np.clip(frame.astype(np.float32) + noise, 0, 255).astype(np.uint8)


Degradation = Callable[[Gray, random.Random], Gray]
DEGRADATIONS: dict[str, Degradation] = {
    "low_contrast": low_contrast,
    "glare": glare,
    "tilt": tilt,
    "blur": blur,
    "dark": dark,
    "phone_screen": phone_screen,
    "noise": noisy,
}


@dataclass(frozen=True)
class HardFrame:
    """One generated test frame and what it shows."""

    kind: str
    text: str
    frame: Gray


def hard_frames(texts: Sequence[str], count: int, *, seed: int = 7) -> list[HardFrame]:
    """`count` frames mixing small codes and one or two degradations each (reproducible)."""
    rng = random.Random(seed)  # noqa: S311 - test imagery
    kinds = [*DEGRADATIONS, "small"]
    frames = []
    for i in range(count):
        text = texts[i % len(texts)]
        kind = kinds[i % len(kinds)]
        small = kind == "small" or rng.random() < 0.25
        module_px = 2 if small else rng.choice([3, 4])
        scale = rng.uniform(0.75, 0.95) if small else rng.uniform(0.9, 1.2)
        frame = place(qr_image(text, module_px=module_px), scale=scale, rng=rng)
        names = [kind] if kind != "small" else []
        if rng.random() < 0.3:
            names.append(rng.choice(list(DEGRADATIONS)))
        for name in names:
            frame = DEGRADATIONS[name](frame, rng)
        frames.append(HardFrame("+".join([kind, *names[1:]]), text, frame))
    return frames


def stacked(top: Gray, bottom: Gray, *, size: tuple[int, int] = FRAME_SIZE) -> Gray:
    """Two codes one above the other on a light page (a printed booking confirmation with an
    app-download QR above the booking QR, say), centred in a frame of `size` (w, h).

    Raises:
        ValueError: the two codes do not fit in the frame.
    """
    width, height = size
    gap = 8
    if top.shape[0] + bottom.shape[0] + gap > height or max(top.shape[1], bottom.shape[1]) > width:
        raise ValueError(f"the two codes do not fit in a {width}x{height} frame")
    y = (height - top.shape[0] - bottom.shape[0] - gap) // 2
    frame = place(top, size=size, background=200, at=((width - top.shape[1]) // 2, y))
    y += top.shape[0] + gap
    x = (width - bottom.shape[1]) // 2
    frame[y : y + bottom.shape[0], x : x + bottom.shape[1]] = bottom
    return frame
