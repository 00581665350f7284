"""Cameras: only the newest fresh frame is handed out, and a hung camera cannot freeze the kiosk."""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np
import pytest

from kiosk.adapters import capture
from kiosk.adapters.capture import CaptureSource
from kiosk.adapters.picamera import _Picamera2Device, picamera2_source
from kiosk.adapters.picamera import is_usable as picamera_usable
from kiosk.adapters.usbcam import is_usable as usb_usable
from kiosk.errors import CameraError
from kiosk.ports import Frame
from kiosk.sim.camera import FolderCamera, ScriptedCamera

WAIT_S = 10.0  # only a safety net against a deadlocked test, never a timing assumption


def frame(value: int) -> Frame:
    return np.full((4, 4), value, np.uint8)


class FakeDevice:
    """One opened camera. `grab` blocks until the test hands it a frame (or an error)."""

    def __init__(self, index: int) -> None:
        self.index = index
        self._items: list[Frame | BaseException] = []
        self._cv = threading.Condition()
        self.grabs = 0
        self.closed = threading.Event()

    def give(self, item: Frame | BaseException) -> None:
        with self._cv:
            self._items.append(item)
            self._cv.notify_all()

    def wait_grabs(self, count: int) -> None:
        """Until `grab` was entered `count` times (so every frame before was handed over)."""
        with self._cv:
            assert self._cv.wait_for(lambda: self.grabs >= count, WAIT_S), "camera thread stuck"

    def grab(self, timeout_s: float) -> Frame:
        with self._cv:
            self.grabs += 1
            self._cv.notify_all()
            assert self._cv.wait_for(lambda: self._items, WAIT_S)
            item = self._items.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        self.closed.set()


class Opener:
    def __init__(self) -> None:
        self.devices: list[FakeDevice] = []
        self._cv = threading.Condition()

    def __call__(self) -> FakeDevice:
        with self._cv:
            self.devices.append(FakeDevice(len(self.devices)))
            self._cv.notify_all()
            return self.devices[-1]

    def device(self, index: int) -> FakeDevice:
        with self._cv:
            assert self._cv.wait_for(lambda: len(self.devices) > index, WAIT_S)
            return self.devices[index]


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def cam() -> Iterator[tuple[CaptureSource, Opener, Clock]]:
    opener, clock = Opener(), Clock()
    source = CaptureSource(
        "fake:0", opener, frame_timeout_s=2.0, max_age_s=0.5, retry_s=0.01, monotonic=clock
    )
    source.start()
    yield source, opener, clock
    for device in opener.devices:  # release every blocked grab so the threads can end
        device.give(OSError("test over"))
    source.stop()


def test_only_the_newest_frame_is_handed_out(cam: tuple[CaptureSource, Opener, Clock]) -> None:
    source, opener, _ = cam
    device = opener.device(0)
    for value in (1, 2, 3):
        device.give(frame(value))
    device.wait_grabs(4)

    sample = source.latest()

    assert sample is not None and sample.seq == 3 and sample.image[0, 0] == 3
    assert source.latest(newer_than=sample.seq) is None  # the same frame is never decoded twice


def test_a_frame_older_than_max_age_is_never_returned(
    cam: tuple[CaptureSource, Opener, Clock],
) -> None:
    source, opener, clock = cam
    device = opener.device(0)
    device.give(frame(1))
    device.wait_grabs(2)

    clock.t += 0.6

    assert source.latest() is None


def test_a_hung_camera_raises_and_is_replaced_without_blocking_the_caller(
    cam: tuple[CaptureSource, Opener, Clock],
) -> None:
    source, opener, clock = cam
    hung = opener.device(0)
    hung.wait_grabs(1)  # inside the driver call, which never returns

    clock.t += 2.1
    with pytest.raises(CameraError, match="fake:0 delivered no frame for 2 s; reopening"):
        source.latest()

    fresh = opener.device(1)
    fresh.give(frame(7))
    fresh.wait_grabs(2)
    assert source.latest() is not None
    assert source.stuck_threads == 1

    hung.give(frame(99))  # the old driver call finally returns: its frame is stale
    assert hung.closed.wait(WAIT_S)
    sample = source.latest()
    assert sample is not None and sample.image[0, 0] == 7


def test_hung_threads_are_capped(cam: tuple[CaptureSource, Opener, Clock]) -> None:
    source, opener, clock = cam
    for hang in range(capture.MAX_STUCK + 3):
        if hang < capture.MAX_STUCK:
            opener.device(hang).wait_grabs(1)  # every camera opened hangs in its first grab
        clock.t += 2.1
        with pytest.raises(CameraError):
            source.latest()

    assert source.stuck_threads == capture.MAX_STUCK
    assert len(opener.devices) == capture.MAX_STUCK  # no more threads piled up


def test_a_capture_error_reopens_the_camera(cam: tuple[CaptureSource, Opener, Clock]) -> None:
    source, opener, _ = cam
    first = opener.device(0)
    first.give(OSError("USB disconnect"))
    assert first.closed.wait(WAIT_S)

    second = opener.device(1)
    second.give(frame(5))
    second.wait_grabs(2)

    sample = source.latest()
    assert sample is not None and sample.image[0, 0] == 5


# -- picamera2, as its API is used (a fake module: the real one exists only on a Pi) -----------


class FakePicamera2:
    made: ClassVar[list[FakePicamera2]] = []
    stall_after: ClassVar[int | None] = None

    def __init__(self, camera_num: int) -> None:
        self.camera_num = camera_num
        self.calls: list[str] = []
        self.frames = 0
        FakePicamera2.made.append(self)

    def create_video_configuration(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append("create_video_configuration")
        self.config = kwargs
        return kwargs

    def configure(self, config: dict[str, Any]) -> None:
        self.calls.append("configure")

    def start(self) -> None:
        self.calls.append("start")

    def capture_array(self, name: str = "main", wait: bool | None = None) -> str:
        assert name == "main" and wait is False  # asynchronous: a job we wait on with a timeout
        return "job"

    def wait(self, job: str, timeout: float | None = None) -> Frame:
        assert job == "job" and timeout is not None
        limit = FakePicamera2.stall_after
        if limit is not None and self.frames >= limit:
            raise TimeoutError("the camera stalled")
        self.frames += 1
        width, height = self.config["main"]["size"]
        return np.zeros((height * 3 // 2, width), np.uint8)  # YUV420: luma, then chroma

    def stop(self) -> None:
        self.calls.append("stop")

    def close(self) -> None:
        self.calls.append("close")


def test_picamera2_frames_are_the_luma_plane_and_a_stall_raises_for_a_reopen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    FakePicamera2.made = []
    FakePicamera2.stall_after = 1
    monkeypatch.setitem(sys.modules, "picamera2", types.SimpleNamespace(Picamera2=FakePicamera2))
    device = _Picamera2Device(0, 64, 48)

    image = device.grab(2.0)
    with pytest.raises(TimeoutError):  # CaptureSource closes the camera and opens a new one
        device.grab(2.0)
    device.close()

    (camera,) = FakePicamera2.made
    assert image.shape == (48, 64)
    assert camera.config["main"] == {"size": (64, 48), "format": "YUV420"}
    assert camera.calls == ["create_video_configuration", "configure", "start", "stop", "close"]
    assert isinstance(picamera2_source(0), CaptureSource)


def test_device_checks_say_what_is_missing() -> None:
    ok, why = picamera_usable()
    assert not ok and ("picamera2" in why or "libcamera" in why)
    ok, why = usb_usable("/dev/video-none")
    assert not ok and "/dev/video-none" in why


# -- simulated cameras -------------------------------------------------------------------------


def test_the_folder_camera_shows_each_new_image_once_in_name_order(tmp_path: Path) -> None:
    for name, value in (("b.png", 20), ("a.png", 10)):
        cv2.imwrite(str(tmp_path / name), frame(value))
    (tmp_path / "c.png").write_bytes(b"broken")
    camera = FolderCamera(tmp_path)

    shown = [camera.advance_image(), camera.advance_image(), camera.advance_image()]

    assert [p.name if p else None for p in shown] == ["a.png", "b.png", None]
    sample = camera.latest()
    assert sample is not None and sample.image[0, 0] == 20
    assert camera.latest(newer_than=sample.seq) is None


def test_a_scripted_camera_can_be_told_to_fail() -> None:
    camera = ScriptedCamera()
    camera.fail()
    with pytest.raises(CameraError, match="told to"):
        camera.latest()


def test_an_automatic_folder_camera_holds_each_new_image_up_then_clears(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), frame(10))
    now = [0.0]
    camera = FolderCamera(tmp_path, lambda: now[0], auto=True, hold_s=3.0, poll_s=0.5)

    held = camera.latest()
    now[0] = 3.5
    cleared = camera.latest()
    cv2.imwrite(str(tmp_path / "b.png"), frame(20))
    now[0] = 4.0
    second = camera.latest()

    assert held is not None and held.image[0, 0] == 10
    assert cleared is not None and cleared.image[0, 0] != 10  # the empty scene
    assert second is not None and second.image[0, 0] == 20
