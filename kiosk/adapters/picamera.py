"""The Raspberry Pi camera through picamera2 (imported only here, only when opened, only on a Pi).

Frames are taken from the YUV420 main stream: its first `height` rows are the luma plane, a
grayscale image for free. Each capture waits at most `frame_timeout_s` (`Picamera2.wait(job,
timeout)`), and the capture thread itself is watched by `CaptureSource`.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from kiosk.adapters.capture import CaptureSource
from kiosk.ports import Frame


def is_usable() -> tuple[bool, str]:
    """Whether picamera2 can be used here, and why not."""
    if importlib.util.find_spec("picamera2") is None:
        return False, "picamera2 is not installed (on a Pi: apt install python3-picamera2)"
    if importlib.util.find_spec("libcamera") is None:
        return False, "the libcamera Python bindings are missing (Raspberry Pi OS only)"
    return True, "picamera2 available"


class _Picamera2Device:
    def __init__(self, camera_num: int, width: int, height: int) -> None:
        from picamera2 import Picamera2

        self._height, self._width = height, width
        self._camera: Any = Picamera2(camera_num)
        config = self._camera.create_video_configuration(
            main={"size": (width, height), "format": "YUV420"}, buffer_count=3
        )
        self._camera.configure(config)
        self._camera.start()

    def grab(self, timeout_s: float) -> Frame:
        job = self._camera.capture_array("main", wait=False)
        array: Frame = self._camera.wait(job, timeout=timeout_s)
        return array[: self._height, : self._width]

    def close(self) -> None:
        try:
            self._camera.stop()
        finally:
            self._camera.close()


def picamera2_source(
    camera_num: int = 0,
    *,
    width: int = 640,
    height: int = 480,
    frame_timeout_s: float = 2.0,
    max_age_s: float = 0.5,
) -> CaptureSource:
    """A `FrameSource` on the Pi camera `camera_num`."""
    return CaptureSource(
        f"picamera2:{camera_num}",
        lambda: _Picamera2Device(camera_num, width, height),
        frame_timeout_s=frame_timeout_s,
        max_age_s=max_age_s,
    )
