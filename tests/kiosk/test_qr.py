"""QR decoding: the plain zxing-cpp call first, preprocessing only when it misses."""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp
from PIL import Image

from kiosk.adapters.qr import FALLBACKS, QR_ONLY, LiveDecoder, QrDecoder, load_photo, to_gray
from kiosk.sim.frames import DEGRADATIONS, blank_frame, hard_frames, place, qr_image

TOKEN = "LA1:" + "6BFOXN*TS0BI$ZD.P9UPO%KZ" * 8  # a token-sized, QR-alphanumeric text
TEXTS = [f"LA1:TEST{i:03d}-" + "A1B2C3D4E5" * 18 for i in range(6)]


def plain(image: np.ndarray) -> set[str]:
    return {b.text for b in zxingcpp.read_barcodes(image) if b.valid}


def test_a_clean_frame_is_read_by_the_plain_call_alone() -> None:
    frame = place(qr_image(TOKEN), background=140)

    result = LiveDecoder().decode(frame)

    assert result.texts == (TOKEN,)
    assert result.strategy == "plain" and result.tried == 1


def test_colour_frames_are_read_too() -> None:
    frame = cv2.cvtColor(place(qr_image(TOKEN)), cv2.COLOR_GRAY2BGR)

    assert QrDecoder().decode(frame).texts == (TOKEN,)
    assert to_gray(frame).ndim == 2


def test_an_empty_frame_costs_one_call_most_of_the_time() -> None:
    live = LiveDecoder(fallback_every=3)

    tried = [live.decode(blank_frame(seed)).tried for seed in range(6)]

    assert tried == [1, 1, 2, 1, 1, 2]


def test_the_live_decoder_cycles_fallbacks_over_consecutive_misses() -> None:
    # GIVEN a hard frame the plain call cannot read but a fallback can
    hard = next(
        h
        for h in hard_frames(TEXTS, 40, seed=3)
        if h.text not in plain(h.frame) and h.text in QrDecoder().decode(h.frame).texts
    )
    live = LiveDecoder(fallback_every=1)

    # WHEN the same scene stays in front of the camera
    results = [live.decode(hard.frame) for _ in range(2 * len(FALLBACKS))]

    # THEN one of the fallbacks reads it within a few frames
    assert any(hard.text in r.texts for r in results)
    assert results[0].tried >= 2


def test_scan_reads_everything_the_plain_call_reads_and_more_on_hard_frames() -> None:
    frames = hard_frames(TEXTS, 24, seed=11)
    decoder = QrDecoder(budget_ms=250)

    raw_hits = ours_hits = 0
    for hard in frames:
        ours = set(decoder.decode(hard.frame).texts)
        raw = {
            b.text
            for b in zxingcpp.read_barcodes(hard.frame, formats=zxingcpp.BarcodeFormats(QR_ONLY))
            if b.valid
        }
        assert raw <= ours, hard.kind
        raw_hits += hard.text in raw
        ours_hits += hard.text in ours

    assert ours_hits > raw_hits


def test_the_fallback_budget_is_respected() -> None:
    ticks = iter(range(0, 10_000, 100))  # every timer read: 100 ms later

    decoder = QrDecoder(budget_ms=250, timer=lambda: next(ticks) / 1000)
    result = decoder.decode(blank_frame(3))

    assert result.texts == ()
    assert result.tried <= 3


def test_photos_are_read_like_a_plain_call_on_the_file_and_more(tmp_path: Path) -> None:
    # GIVEN a photo with a QR code and a Code 128 barcode, and a glared photo of a QR code
    code128 = zxingcpp.create_barcode("KLAIM-12345", zxingcpp.BarcodeFormat.Code128)
    bars = np.array(code128.to_image(scale=3), dtype=np.uint8)
    scene = place(qr_image(TOKEN), size=(1200, 900), at=(40, 40), background=200)
    scene[600 : 600 + bars.shape[0], 500 : 500 + bars.shape[1]] = bars
    both = tmp_path / "both.jpg"
    Image.fromarray(scene).convert("RGB").save(both, quality=92)
    glared = tmp_path / "glare.png"
    frame = DEGRADATIONS["low_contrast"](place(qr_image(TOKEN, module_px=2)), random.Random(5))
    cv2.imwrite(str(glared), frame)

    decoder = QrDecoder(formats="all")
    for path in (both, glared):
        ours = set(decoder.decode(load_photo(path), rgb=True).texts)
        assert plain(np.asarray(Image.open(path))) <= ours
    assert set(decoder.decode(load_photo(both), rgb=True).texts) == {TOKEN, "KLAIM-12345"}


def test_a_large_photo_is_searched_on_a_smaller_copy(tmp_path: Path) -> None:
    big = place(qr_image(TOKEN, module_px=3), size=(3200, 2400), at=(2000, 1500), background=90)
    blurred = cv2.GaussianBlur(big, (0, 0), 1.2)

    result = QrDecoder(budget_ms=2000).decode(blurred)

    assert TOKEN in result.texts


def test_unreadable_files_raise_oserror(tmp_path: Path) -> None:
    broken = tmp_path / "x.png"
    broken.write_bytes(b"not an image")
    with pytest.raises(OSError):
        load_photo(broken)
