"""The kiosk loop around the engine: camera faults, frames, occupancy, state, arrivals."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import cv2
import pytest

from kiosk.adapters.qr import DecodeResult
from kiosk.domain import events
from kiosk.domain.screens import Phase
from kiosk.ports import Frame
from kiosk.runtime import Kiosk
from kiosk.sim.bookings import token_qr
from kiosk.sim.camera import FolderCamera, ScriptedCamera
from kiosk.sim.driver import Participants
from kiosk.sim.frames import blank_frame, place
from kiosk.sim.thermometer import SimulatedThermometer
from tests.kiosk.rig import NOW, Rig
from uplink import ManualClock


def camera_of(kiosk: Kiosk) -> ScriptedCamera:
    assert isinstance(kiosk.camera, ScriptedCamera)
    return kiosk.camera


def test_a_failing_camera_is_a_fault_until_frames_come_back(kiosk: Kiosk, rig: Rig) -> None:
    camera_of(kiosk).fail()
    kiosk.step()
    kiosk.step()
    assert rig.events.of(events.FAULT) == [
        {
            "component": "camera",
            "code": "no_frames",
            "active": True,
            "detail": "simulated camera sim is failing (told to)",
        }
    ]
    assert "camera: no_frames" in kiosk.state()["alerts"]

    camera_of(kiosk).fail(False)
    camera_of(kiosk).show(blank_frame(1))
    kiosk.step()

    assert rig.events.of(events.FAULT)[-1] == {
        "component": "camera",
        "code": "no_frames",
        "active": False,
    }


def test_a_frame_with_a_booking_starts_a_check_in_and_is_decoded_once(
    kiosk: Kiosk, rig: Rig
) -> None:
    decoded: list[int] = []
    decode = kiosk.decoder.decode

    def counted(frame: Frame) -> DecodeResult:
        decoded.append(1)
        return decode(frame)

    kiosk.decoder.decode = counted  # type: ignore[method-assign]
    camera_of(kiosk).show(place(token_qr(rig.token("B0000080")), background=140))

    kiosk.step()
    kiosk.step()  # the same frame again, and the engine is busy measuring

    assert kiosk.engine.screen.phase is Phase.MEASURING
    assert decoded == [1]


def test_occupancy_messages_update_the_welcome_screen_and_bad_ones_are_ignored(
    kiosk: Kiosk,
) -> None:
    kiosk._occupancy("t", b"not json at all {")
    kiosk._occupancy("t", json.dumps({"inside": -1, "capacity": 3}).encode())
    kiosk.step()
    assert not kiosk.engine.screen.wait_outside

    kiosk._occupancy("t", json.dumps({"inside": 40, "capacity": 37}).encode())
    kiosk.step()

    full = kiosk.engine.screen
    assert full.wait_outside
    assert kiosk.state()["office_full"] is True


def test_the_state_is_published_when_it_changes(
    kiosk: Kiosk, monkeypatch: pytest.MonkeyPatch
) -> None:
    published: list[Mapping[str, Any]] = []
    monkeypatch.setattr(kiosk.uplink, "publish_state", published.append)

    kiosk.step()
    kiosk.step()
    kiosk.engine.start_walkin()
    kiosk.step()

    assert [p["phase"] for p in published] == ["idle", "choose_service"]
    assert published[0]["summary"] == "0 tiket hari ini · siaga / 0 tickets today"


def test_participants_show_a_booking_when_its_slot_is_about_to_open(
    rig: Rig, tmp_path: Path
) -> None:
    folder = tmp_path / "qr"
    folder.mkdir()
    later = NOW.astimezone(rig.config.booking.zone).replace(minute=0) + timedelta(hours=3)
    cv2.imwrite(str(folder / "001-later.png"), token_qr(rig.token("B0000090", slot_start=later)))
    cv2.imwrite(str(folder / "002-now.png"), token_qr(rig.token("B0000091")))
    camera = FolderCamera(folder)
    clock: ManualClock = rig.clock
    crowd = Participants(rig.engine, camera, SimulatedThermometer(), walkin_every=0, wall=clock.now)

    crowd.step(clock.monotonic())
    shown = [p.name for p in folder.iterdir() if p.name not in {x.name for x in camera.pending()}]

    assert shown == ["002-now.png"]
    assert crowd.arrivals == 1
