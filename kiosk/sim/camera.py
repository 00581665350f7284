"""Simulated cameras: a list of image files, or a folder where new images appear."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from kiosk.errors import CameraError
from kiosk.ports import Frame, FrameSample
from kiosk.sim.frames import blank_frame

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def load_image(path: Path) -> Frame:
    """An image file as a grayscale frame.

    Raises:
        CameraError: the file cannot be read as an image.
    """
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise CameraError(f"{path}: not a readable image (use PNG or JPEG)")
    frame: Frame = np.ascontiguousarray(image)
    return frame


class ScriptedCamera:
    """A camera showing frames given by the test or simulation, one at a time.

    `show(frame)` puts a frame in front of the camera; `fail(True)` makes `latest()` raise.
    """

    def __init__(self, name: str = "sim", monotonic: Callable[[], float] | None = None) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._sample: FrameSample | None = None
        self._seq = 0
        self._failing = False
        self._now = monotonic or (lambda: 0.0)

    def start(self) -> None:
        """Nothing to start."""

    def stop(self) -> None:
        """Nothing to stop."""

    def show(self, frame: Frame) -> None:
        with self._lock:
            self._seq += 1
            self._sample = FrameSample(frame, self._now(), self._seq)

    def fail(self, failing: bool = True) -> None:
        self._failing = failing

    def latest(self, newer_than: int = -1) -> FrameSample | None:
        if self._failing:
            raise CameraError(f"simulated camera {self.name} is failing (told to)")
        with self._lock:
            sample = self._sample
        if sample is None or sample.seq <= newer_than:
            return None
        return sample


class FolderCamera(ScriptedCamera):
    """Shows each new image that appears in a folder once, like a participant holding up a phone.

    `advance_image()` shows the next unseen image; `clear()` shows an empty scene. Files are
    taken in name order; a file is seen once per run.
    """

    def __init__(self, folder: Path, monotonic: Callable[[], float] | None = None) -> None:
        super().__init__(f"folder:{folder}", monotonic)
        self.folder = folder
        self._seen: set[str] = set()
        self._blank = blank_frame(0)

    def pending(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(
            p
            for p in self.folder.iterdir()
            if p.suffix.lower() in IMAGE_SUFFIXES and p.name not in self._seen
        )

    def advance_image(self) -> Path | None:
        """Show the next unseen image and return its path; None (nothing shown) if none is new."""
        for path in self.pending():
            if self.show_file(path):
                return path
        return None

    def show_file(self, path: Path) -> bool:
        """Show one image of the folder (marked seen); False if it cannot be read."""
        self._seen.add(path.name)
        try:
            self.show(load_image(path))
        except CameraError as exc:
            logger.warning("%s", exc)
            return False
        return True

    def clear(self) -> None:
        """Show an empty scene (nobody holding up a code)."""
        self.show(self._blank)


def file_frames(paths: Sequence[Path]) -> list[tuple[Path, Frame]]:
    """Load image files for `kiosk scan` and `kiosk checkin --simulate`."""
    return [(path, load_image(path)) for path in paths]
