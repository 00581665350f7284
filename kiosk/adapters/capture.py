"""A camera's capture thread: keeps only the newest frame and notices when the camera hangs.

The kiosk never waits on the camera. The capture thread overwrites one slot; the kiosk takes
the newest frame when it is ready for one (so nothing queues up and no stale frame is decoded).
If no frame arrives for `frame_timeout_s`, `latest()` raises `CameraError` and the thread is
replaced by a fresh one that reopens the camera (a thread stuck inside a driver call is left
behind: it cannot be killed, it exits on its own if the call ever returns, and its frames are
dropped). At most `MAX_STUCK` such threads are left behind; after that the source only reports
the fault until one of them returns.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from kiosk.errors import CameraError
from kiosk.ports import Frame, FrameSample

logger = logging.getLogger(__name__)
MAX_STUCK = 3


class Device(Protocol):
    """What a capture thread needs from one opened camera."""

    def grab(self, timeout_s: float) -> Frame:
        """The next frame; raises TimeoutError or OSError when there is none."""
        ...

    def close(self) -> None: ...


Opener = Callable[[], Device]


class LatestFrame:
    """A one-frame slot shared by a producer thread and the kiosk."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sample: FrameSample | None = None
        self._seq = 0

    def put(self, image: Frame, captured_at: float) -> None:
        with self._lock:
            self._seq += 1
            self._sample = FrameSample(image, captured_at, self._seq)

    def get(self, newer_than: int = -1) -> FrameSample | None:
        with self._lock:
            sample = self._sample
        if sample is None or sample.seq <= newer_than:
            return None
        return sample


class CaptureSource:
    """A `FrameSource` for any camera with an `Opener`.

    Args:
        name: for logs and fault events, e.g. ``picamera2:0`` or ``v4l2:/dev/video0``.
        opener: opens the camera in the capture thread (libraries imported there).
        frame_timeout_s: no frame for this long means the camera is hung.
        max_age_s: frames older than this are stale and never returned.
        retry_s: pause before reopening after an error.
        monotonic: the clock (injected in tests).
    """

    def __init__(
        self,
        name: str,
        opener: Opener,
        *,
        frame_timeout_s: float = 2.0,
        max_age_s: float = 0.5,
        retry_s: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._opener = opener
        self._frame_timeout = frame_timeout_s
        self._max_age = max_age_s
        self._retry = retry_s
        self._now = monotonic
        self._slot = LatestFrame()
        self._stop = threading.Event()
        self._generation = 0
        self._last_progress = 0.0
        self._last_error = ""
        self._thread: threading.Thread | None = None
        self._abandoned: list[threading.Thread] = []

    def start(self) -> None:
        self._stop.clear()
        self._last_progress = self._now()
        self._spawn()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self._frame_timeout + 1.0)
            self._thread = None

    @property
    def stuck_threads(self) -> int:
        """Capture threads abandoned inside a hung driver call that have not returned yet."""
        self._abandoned = [thread for thread in self._abandoned if thread.is_alive()]
        return len(self._abandoned)

    def latest(self, newer_than: int = -1) -> FrameSample | None:
        """The newest fresh frame above `newer_than`, else None; never waits on the camera.

        Raises:
            CameraError: no frame for `frame_timeout_s` (the capture thread is replaced).
        """
        now = self._now()
        if now - self._last_progress > self._frame_timeout:
            self._last_progress = now  # give the replacement thread a full timeout
            thread = self._thread
            if thread is not None and thread.is_alive() and thread not in self._abandoned:
                self._abandoned.append(thread)
            if self.stuck_threads < MAX_STUCK:
                self._spawn()
            raise CameraError(
                f"camera {self.name} delivered no frame for {self._frame_timeout:g} s"
                f"{': ' + self._last_error if self._last_error else ''}; reopening it. If this "
                "repeats, check the camera cable and that no other program uses the camera"
            )
        sample = self._slot.get(newer_than)
        if sample is None or now - sample.captured_at > self._max_age:
            return None
        return sample

    def _spawn(self) -> None:
        self._generation += 1
        self._thread = threading.Thread(
            target=self._run,
            args=(self._generation,),
            name=f"camera-{self._generation}",
            daemon=True,
        )
        self._thread.start()

    def _current(self, generation: int) -> bool:
        """Whether the thread of `generation` is still the source's live capture thread."""
        return generation == self._generation and not self._stop.is_set()

    def _run(self, generation: int) -> None:
        while self._current(generation):
            try:
                device = self._opener()
            except (OSError, RuntimeError, ImportError) as exc:
                self._last_error = f"cannot open: {exc}"
                logger.warning("camera %s: cannot open (%s); retrying", self.name, exc)
                self._stop.wait(self._retry)
                continue
            try:
                while self._current(generation):
                    image = device.grab(self._frame_timeout)
                    if not self._current(generation):
                        break  # abandoned while the driver hung: this frame is stale
                    now = self._now()
                    self._slot.put(image, now)
                    self._last_progress = now
                    self._last_error = ""
            except (OSError, RuntimeError, TimeoutError) as exc:
                self._last_error = str(exc) or type(exc).__name__
                logger.warning("camera %s: capture failed (%s); reopening", self.name, exc)
                self._stop.wait(self._retry)
            finally:
                try:
                    device.close()
                except Exception:  # closing a broken camera must not kill the thread
                    logger.exception("camera %s: close failed", self.name)
