"""Simulated cameras: a list of image files, or a folder where new images appear."""

from __future__ import annotations

import logging
import threading
import time
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
        self._hung_since: float | None = None
        self._hang_timeout_s = 2.0
        self._now = monotonic or (lambda: 0.0)

    def start(self) -> None:
        """Nothing to start."""

    def stop(self) -> None:
        """Nothing to stop."""

    def show(self, frame: Frame) -> None:
        if self._hung_since is not None:
            return  # a hung camera captures nothing
        with self._lock:
            self._seq += 1
            self._sample = FrameSample(frame, self._now(), self._seq)

    def fail(self, failing: bool = True) -> None:
        self._failing = failing

    def hang(self, hung: bool = True, timeout_s: float = 2.0) -> None:
        """Hang like a camera stuck in its driver (`hung`), or deliver frames again.

        While hung, frames shown are lost and `latest()` gives nothing; after `timeout_s` it
        raises `CameraError`, as the capture thread reports a camera that delivers no frame
        (`kiosk.adapters.capture`).
        """
        self._hung_since = self._now() if hung else None
        self._hang_timeout_s = timeout_s

    def latest(self, newer_than: int = -1) -> FrameSample | None:
        if self._failing:
            raise CameraError(f"simulated camera {self.name} is failing (told to)")
        if self._hung_since is not None:
            if self._now() - self._hung_since > self._hang_timeout_s:
                raise CameraError(
                    f"simulated camera {self.name} delivered no frame for "
                    f"{self._hang_timeout_s:g} s (hung, told to)"
                )
            return None
        with self._lock:
            sample = self._sample
        if sample is None or sample.seq <= newer_than:
            return None
        return sample


class FolderCamera(ScriptedCamera):
    """Shows each new image that appears in a folder once, like a participant holding up a phone.

    `advance_image()` shows the next unseen image; `clear()` shows an empty scene. Files are
    taken in name order; a file is seen once per run. With `auto` (`kiosk run` with
    ``camera.source = "folder"``), `latest()` does this itself: it looks for new files every
    `poll_s`, holds each image up for `hold_s`, then shows an empty scene.
    """

    def __init__(
        self,
        folder: Path,
        monotonic: Callable[[], float] | None = None,
        *,
        auto: bool = False,
        hold_s: float = 3.0,
        poll_s: float = 0.5,
    ) -> None:
        super().__init__(f"folder:{folder}", monotonic or (time.monotonic if auto else None))
        self.folder = folder
        self.auto = auto
        self.hold_s = hold_s
        self.poll_s = poll_s
        self._seen: set[str] = set()
        self._blank = blank_frame(0)
        self._held_since: float | None = None
        self._next_poll = 0.0

    def latest(self, newer_than: int = -1) -> FrameSample | None:
        if self.auto:
            self._hold_up_next(self._now())
        return super().latest(newer_than)

    def _hold_up_next(self, now: float) -> None:
        if self._held_since is not None and now - self._held_since >= self.hold_s:
            self.clear()
            self._held_since = None
        if self._held_since is None and now >= self._next_poll:
            self._next_poll = now + self.poll_s
            if self.advance_image() is not None:
                self._held_since = now

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
