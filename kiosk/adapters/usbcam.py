"""A USB camera through OpenCV's V4L2 backend (cv2 imported only here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.adapters.capture import CaptureSource
from kiosk.ports import Frame


def is_usable(device: str = "/dev/video0") -> tuple[bool, str]:
    """Whether the V4L2 device exists and OpenCV is importable."""
    try:
        import cv2  # noqa: F401
    except ImportError as exc:
        return False, f"OpenCV is missing: {exc}"
    if not Path(device).exists():
        return False, f"{device} does not exist; plug the USB camera in or fix camera.device"
    return True, f"{device} present"


class _V4l2Device:
    def __init__(self, device: str, width: int, height: int) -> None:
        import cv2

        self._cv2 = cv2
        self._capture: Any = cv2.VideoCapture(device, cv2.CAP_V4L2)
        if not self._capture.isOpened():
            raise OSError(f"cannot open {device} with V4L2")
        self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        # One buffer: the driver must not hand us frames that waited in a queue.
        self._capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        timeout_prop = getattr(cv2, "CAP_PROP_READ_TIMEOUT_MSEC", None)
        self._timeout_prop = timeout_prop

    def grab(self, timeout_s: float) -> Frame:
        if self._timeout_prop is not None:
            self._capture.set(self._timeout_prop, timeout_s * 1000)
        ok, image = self._capture.read()
        if not ok or image is None:
            raise OSError("the USB camera returned no frame")
        frame: Frame = self._cv2.cvtColor(image, self._cv2.COLOR_BGR2GRAY)
        return frame

    def close(self) -> None:
        self._capture.release()


def usb_source(
    device: str = "/dev/video0",
    *,
    width: int = 640,
    height: int = 480,
    frame_timeout_s: float = 2.0,
    max_age_s: float = 0.5,
) -> CaptureSource:
    """A `FrameSource` on a V4L2 USB camera."""
    return CaptureSource(
        f"v4l2:{device}",
        lambda: _V4l2Device(device, width, height),
        frame_timeout_s=frame_timeout_s,
        max_age_s=max_age_s,
    )
