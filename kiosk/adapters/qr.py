"""QR decoding with zxing-cpp: the plain call first, then cheap preprocessing only on a miss.

Measured on generated hard frames (tests/bench/scan.py): zxing-cpp alone reads about two thirds;
upscaling with local contrast equalisation (CLAHE) recovers most small, low-contrast and glared
codes, unsharp masking and adaptive thresholding a few more. Every fallback runs only after the
plain call found nothing, so an easy frame costs exactly the plain call, and whatever the plain
call reads is always in the result. Every code in the image is returned; with `wanted` (e.g.
booking tokens), the search goes on until a wanted text is read, so another code beside it (an
app-download QR above the booking QR) never ends the search early.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import cv2
import numpy as np
import numpy.typing as npt
import zxingcpp
from PIL import Image

Gray = npt.NDArray[np.uint8]
Formats = Literal["qr", "all"]
LARGE_SIDE_PX = 1600  # above this, fallbacks work on a downscaled copy (photos, not frames)
WORK_SIDE_PX = 1280

_CLAHE = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8))
# The enum member (a plain Python IntEnum); the `BarcodeFormats` set is made per call. A nanobind
# instance kept in a module global can outlive zxing-cpp's own module at interpreter exit, and
# nanobind then prints "leaked instance ... leaked 7 functions" as every kiosk with Kivy ends.
QR_ONLY = zxingcpp.BarcodeFormat.QRCode


def _u8(image: Any) -> Gray:
    """OpenCV's typing says 'some array'; these calls return 8-bit images for 8-bit input."""
    return cast(Gray, image)


def to_gray(image: npt.NDArray[Any], *, rgb: bool = False) -> Gray:
    """8-bit grayscale view of a grayscale, BGR(A) frame, or RGB(A) photo with `rgb`."""
    if image.ndim == 2:
        return image if image.dtype == np.uint8 else image.astype(np.uint8)
    if image.shape[2] == 4:
        return _u8(cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY if rgb else cv2.COLOR_BGRA2GRAY))
    return _u8(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY if rgb else cv2.COLOR_BGR2GRAY))


def load_photo(path: str | Path) -> npt.NDArray[np.uint8]:
    """An image file as Pillow reads it: RGB (H, W, 3) or grayscale (H, W), pixels untouched.

    This is exactly what a plain ``zxingcpp.read_barcodes(PIL.Image.open(path))`` decodes, so
    `QrDecoder.decode(photo, rgb=True)` with ``formats="all"`` reads at least what that call does.

    Raises:
        OSError: the file is missing, not an image Pillow can read, or a decompression bomb
            (more pixels than Pillow's safety limit: no photo of a QR code is that large).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()
                converted = image if image.mode in ("L", "RGB") else image.convert("RGB")
                return np.asarray(converted, dtype=np.uint8)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise OSError(f"too many pixels to be a photo of a code ({exc})") from None
    except (ValueError, SyntaxError) as exc:  # some decoders report a damaged file so
        raise OSError(f"a damaged image ({exc})") from None


def _clahe(gray: Gray) -> Gray:
    return _u8(_CLAHE.apply(gray))


def _up2(gray: Gray) -> Gray:
    return _u8(cv2.resize(gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC))


def _sharpen(gray: Gray) -> Gray:
    blurred = cv2.GaussianBlur(gray, (0, 0), 2)
    return _u8(cv2.addWeighted(gray, 1.8, blurred, -0.8, 0))


def _adaptive(gray: Gray) -> Gray:
    return _u8(
        cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 31, 5)
    )


_GAMMA = np.array([((i / 255) ** 0.5) * 255 for i in range(256)], dtype=np.uint8)


def _brighten(gray: Gray) -> Gray:
    """Lift dark frames (gamma 0.5) then stretch the histogram."""
    lifted = cv2.LUT(gray, _GAMMA)
    return _u8(cv2.normalize(lifted, lifted.copy(), 0, 255, cv2.NORM_MINMAX))


@dataclass(frozen=True)
class Fallback:
    """One preprocessing step tried after a miss."""

    name: str
    transform: Callable[[Gray], Gray]
    small_only: bool = False  # only for frames at most WORK_SIDE_PX (upscaling photos is costly)


FALLBACKS: tuple[Fallback, ...] = (
    Fallback("up2_clahe", lambda g: _up2(_clahe(g)), small_only=True),
    Fallback("clahe", _clahe),
    Fallback("up2_sharpen", lambda g: _up2(_sharpen(g)), small_only=True),
    Fallback("adaptive", _adaptive),
    Fallback("brighten", _brighten),
    Fallback("sharpen", _sharpen),
)


@dataclass(frozen=True)
class DecodeResult:
    """Texts read from one image.

    Attributes:
        texts: decoded texts, plain-call results first, without duplicates.
        strategy: ``plain`` or the fallback that found the code (``none`` if nothing).
        ms: wall time spent.
        tried: how many decode calls were made.
        unread: QR codes seen in the frame but not read (the touchscreen says "hold still,
            closer"); counted by the live decoder only.
    """

    texts: tuple[str, ...]
    strategy: str
    ms: float
    tried: int
    unread: int = 0


class QrDecoder:
    """Decode QR codes from frames and photos.

    Args:
        formats: ``qr`` (the kiosk: QR codes only, fast) or ``all`` (the plain call reads every
            symbology zxing-cpp knows, as a bare `zxingcpp.read_barcodes(image)` does).
        budget_ms: time allowed for fallbacks after the plain call missed (the plain call itself
            always runs whole); checked between steps.
        timer: seconds counter (injected in tests to exercise the budget without sleeping).
        wanted: the texts worth searching for (default: any); fallbacks run until one of them
            is read, whatever else the image holds.
    """

    def __init__(
        self,
        *,
        formats: Formats = "qr",
        budget_ms: float = 250.0,
        timer: Callable[[], float] = time.perf_counter,
        wanted: Callable[[str], bool] | None = None,
    ) -> None:
        self.formats = formats
        self.budget_ms = budget_ms
        self._timer = timer
        self.wanted = wanted

    def found_wanted(self, texts: Sequence[str]) -> bool:
        """Whether `texts` hold a text this decoder searches for."""
        wanted = self.wanted
        return bool(texts) if wanted is None else any(wanted(text) for text in texts)

    def read(
        self, gray: npt.NDArray[Any], *, all_formats: bool = False, errors: bool = False
    ) -> list[Any]:
        """One zxing-cpp call. `all_formats` uses zxing-cpp's defaults exactly."""
        if all_formats:
            return list(zxingcpp.read_barcodes(gray, return_errors=errors))
        return list(
            zxingcpp.read_barcodes(
                gray, formats=zxingcpp.BarcodeFormats(QR_ONLY), return_errors=errors
            )
        )

    def decode(
        self, image: npt.NDArray[Any], *, exhaustive: bool = False, rgb: bool = False
    ) -> DecodeResult:
        """Plain call, then fallbacks until a QR code is read or the budget is spent.

        Args:
            image: grayscale, BGR, or (with `rgb`) RGB image of any size.
            exhaustive: keep trying every fallback (within the budget) even after a hit, and
                return the union (for photos with several codes).
            rgb: `image` is an RGB photo (`load_photo`); with ``formats="all"`` the plain call
                gets it unchanged, as a bare zxing-cpp call would.
        """
        start = self._timer()
        gray = to_gray(image, rgb=rgb)
        plain_input = image if rgb and self.formats == "all" else gray
        found = self.read(plain_input, all_formats=self.formats == "all", errors=True)
        texts = _texts(found)
        qr_hit = self.found_wanted(
            [b.text for b in found if b.valid and b.format == zxingcpp.BarcodeFormat.QRCode]
        )
        tried, strategy = 1, "plain" if texts else "none"
        if qr_hit and not exhaustive:
            return DecodeResult(tuple(texts), strategy, self._ms(start), tried)
        fallbacks_start = self._timer()  # the budget is for fallbacks: a big photo's plain call
        for name, candidate in self._candidates(gray, found, colour=plain_input is not gray):
            if (self._timer() - fallbacks_start) * 1000 >= self.budget_ms:
                break
            tried += 1
            every_format = self.formats == "all" and name == "gray"
            new = [
                t for t in _texts(self.read(candidate, all_formats=every_format)) if t not in texts
            ]
            if new:
                texts.extend(new)
                strategy = name if strategy == "none" else strategy
                if not exhaustive and self.found_wanted(new):
                    break
        return DecodeResult(tuple(texts), strategy, self._ms(start), tried)

    def _candidates(self, gray: Gray, found: Sequence[Any], *, colour: bool = False) -> Any:
        """Images to try, cheapest and most likely first: the grayscale image when the plain
        call had the colour one (readers that convert differently see that one), regions where
        a QR code was seen but not decoded, then whole-frame fallbacks (on a downscaled copy for
        large photos)."""
        if colour:
            yield "gray", gray
        for index, box in enumerate(_error_boxes(gray, found)):
            crop = gray[box[1] : box[3], box[0] : box[2]]
            yield f"region{index}_up2_clahe", _up2(_clahe(crop))
            yield f"region{index}_up2_sharpen", _up2(_sharpen(crop))
        work = gray
        if max(gray.shape) > LARGE_SIDE_PX:
            factor = WORK_SIDE_PX / max(gray.shape)
            work = _u8(cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA))
            yield "downscaled", work
        small = max(work.shape) <= WORK_SIDE_PX
        for fallback in FALLBACKS:
            if small or not fallback.small_only:
                yield fallback.name, fallback.transform(work)

    def _ms(self, start: float) -> float:
        return round((self._timer() - start) * 1000, 3)


class LiveDecoder:
    """Decode camera frames in the kiosk's loop without slowing the common frame.

    Every frame gets the plain call. When zxing-cpp saw a QR code it could not decode, that
    region is retried upscaled and equalised at once. When it saw nothing, one whole-frame
    fallback runs on every `fallback_every`-th frame in a row that missed, rotating through the
    list: a code held up to the camera gets every fallback within a few frames, while a frame
    without a code mostly costs the plain call. A frame whose codes include none the decoder
    `wanted` counts as a miss: the other codes are kept and the search goes on.
    """

    def __init__(self, decoder: QrDecoder | None = None, *, fallback_every: int = 3) -> None:
        self.decoder = decoder or QrDecoder()
        self.fallback_every = max(1, fallback_every)
        self._misses = 0
        self._next = 0

    def decode(self, frame: npt.NDArray[Any]) -> DecodeResult:
        decoder = self.decoder
        start = time.perf_counter()
        gray = to_gray(frame)
        found = decoder.read(gray, errors=True)
        texts = _texts(found)
        tried, strategy = 1, "plain" if texts else "none"
        hit = decoder.found_wanted(texts)
        unread = 0
        if not hit:
            boxes = _error_boxes(gray, found)
            unread = len(boxes)
            for index, box in enumerate(boxes):
                tried += 1
                more = _texts(decoder.read(_up2(_clahe(gray[box[1] : box[3], box[0] : box[2]]))))
                texts += [text for text in more if text not in texts]
                if decoder.found_wanted(more):
                    hit, strategy = True, f"region{index}_up2_clahe"
                    break
        if not hit:
            self._misses += 1
            if self._misses % self.fallback_every == 0:
                fallback = FALLBACKS[self._next % len(FALLBACKS)]
                self._next += 1
                if max(gray.shape) <= WORK_SIDE_PX or not fallback.small_only:
                    tried += 1
                    more = _texts(decoder.read(fallback.transform(gray)))
                    texts += [text for text in more if text not in texts]
                    if decoder.found_wanted(more):
                        hit, strategy = True, fallback.name
        if hit:
            self._misses = 0
            self._next = 0
        ms = round((time.perf_counter() - start) * 1000, 3)
        return DecodeResult(tuple(texts), strategy, ms, tried, 0 if hit else unread)


def _texts(found: Sequence[Any]) -> list[str]:
    texts: list[str] = []
    for barcode in found:
        if barcode.valid and barcode.text not in texts:
            texts.append(barcode.text)
    return texts


def _error_boxes(gray: Gray, found: Sequence[Any]) -> list[tuple[int, int, int, int]]:
    """Bounding boxes (x0, y0, x1, y1), with a margin, of QR codes seen but not decoded."""
    height, width = gray.shape
    boxes = []
    for barcode in found:
        if barcode.valid or barcode.format != zxingcpp.BarcodeFormat.QRCode:
            continue
        pos = barcode.position
        xs = [pos.top_left.x, pos.top_right.x, pos.bottom_right.x, pos.bottom_left.x]
        ys = [pos.top_left.y, pos.top_right.y, pos.bottom_right.y, pos.bottom_left.y]
        margin = max(8, (max(xs) - min(xs)) // 4)
        box = (
            max(0, min(xs) - margin),
            max(0, min(ys) - margin),
            min(width, max(xs) + margin),
            min(height, max(ys) + margin),
        )
        if box[2] - box[0] >= 16 and box[3] - box[1] >= 16:
            boxes.append(box)
    return boxes[:2]
