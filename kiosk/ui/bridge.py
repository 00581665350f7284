"""The one seam between the kiosk's threads and Kivy: everything reaches the UI through `to_ui`.

The engine, camera, thermometer, printer and network run on the kiosk loop's thread (`Runner`),
never on Kivy's. What they produce (a new `Screen`, a camera frame for the preview, a fault) is
handed over with `Clock.schedule_once`, which is safe to call from any thread; touches go the
other way through the engine's intents, which only queue a command.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kivy.clock import Clock

from kiosk.errors import CameraError
from kiosk.ports import FrameSource
from kiosk.ui.picture import PreviewImage, preview_image

logger = logging.getLogger(__name__)
LOOP_S = 0.02
PREVIEW_FPS = 12.0


def to_ui(function: Callable[..., None], *args: Any) -> None:
    """Run `function(*args)` on Kivy's thread at its next frame (callable from any thread)."""
    Clock.schedule_once(lambda _dt: function(*args), 0)


class PreviewFeed:
    """Hands the camera's newest frame to the UI, one at a time (frames never queue up), at most
    `fps` a second: enough to aim a phone at the framing guide, and every picture costs a
    texture upload and a redraw on the kiosk's small GPU.

    Runs on the kiosk loop's thread after each step, where the frame is also shrunk to `fit`
    (the preview's largest box on the panel) and copied out (`kiosk.ui.picture`);
    `deliver(image)` runs on Kivy's thread and only uploads it.
    """

    def __init__(
        self,
        camera: FrameSource,
        deliver: Callable[[PreviewImage], None],
        *,
        fps: float = PREVIEW_FPS,
        fit: tuple[int, int] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.camera = camera
        self.fit = fit
        self._deliver = deliver
        self._seq = -1
        self._in_flight = threading.Event()
        self._every = 1.0 / fps
        self._now = monotonic
        self._next = 0.0

    def poll(self) -> None:
        if self._in_flight.is_set():
            return  # the UI has not drawn the last one yet: skip, never queue
        now = self._now()
        if now < self._next:
            return
        self._next = now + self._every
        try:
            sample = self.camera.latest(self._seq)
        except CameraError:
            return  # the kiosk loop reports the fault; the UI shows the camera screen
        if sample is None:
            return
        self._seq = sample.seq
        image = preview_image(sample.image, self.fit)
        self._in_flight.set()
        to_ui(self._hand_over, image)

    def _hand_over(self, image: PreviewImage) -> None:
        try:
            self._deliver(image)
        finally:
            self._in_flight.clear()


class Runner:
    """The kiosk loop on its own thread: `step()` every `period_s`, then `after_step` hooks.

    Args:
        step: one pass of the kiosk (engine ticks, frames, state messages).
        period_s: pause between passes.
    """

    def __init__(self, step: Callable[[], None], *, period_s: float = LOOP_S) -> None:
        self._step = step
        self.period_s = period_s
        self.after_step: list[Callable[[], None]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="kiosk-loop", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def run_once(self) -> None:
        """One pass (the loop's body; tests and benchmarks call it on Kivy's thread)."""
        try:
            self._step()
        except Exception:  # loop boundary: log, keep the entrance open
            logger.exception("kiosk loop step failed")
        for hook in self.after_step:
            try:
                hook()
            except Exception:
                logger.exception("kiosk loop hook failed")

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.period_s)
