"""`provision check` tests the devices the app runs: built by the app's own wiring, same settings.

Each device's settings are read off the built objects (`tests.device_settings.settings_of`), so
a self-test that built a camera without its frame timeouts, or a printer without its I/O
timeout, would differ here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dropbox_agent import app as dropbox_app
from kiosk import app as kiosk_app
from kiosk.sim.bookings import SimIssuer
from kiosk.sim.demo import demo_config
from provisioning import check, hardware
from tests.device_settings import settings_of
from tests.dropbox_agent.conftest import make_config as dropbox_config
from uplink import SystemClock
from uplink.sink import EventLog


@pytest.fixture
def kiosk_config(tmp_path: Path) -> Any:
    """A kiosk on real devices with settings unlike the defaults."""
    return demo_config(
        tmp_path,
        SimIssuer(),
        camera={
            "source": "usb",
            "device": "/dev/video7",
            "width_px": 800,
            "height_px": 600,
            "frame_timeout_s": 3.5,
            "max_frame_age_s": 0.25,
        },
        thermometer={"source": "mlx90614", "i2c_bus": 3, "address": 0x5B},
        printer={
            "transport": "network",
            "target": "192.0.2.7:9100",
            "columns": 48,
            "status_timeout_s": 0.7,
            "print_timeout_s": 4.5,
        },
    )


def test_the_kiosk_self_test_builds_the_devices_the_kiosk_runs(kiosk_config: Any) -> None:
    parts = hardware.build("kiosk", kiosk_config, simulate=False, inject=frozenset())
    kiosk = kiosk_app.build(kiosk_config, online=False)
    try:
        running = {
            "camera": kiosk.camera,
            "thermometer": kiosk.engine._thermometer,  # the engine's own ports
            "printer": kiosk.engine._printer,
        }
        for name, device in running.items():
            assert settings_of(parts.devices[name]) == settings_of(device), name
        camera = settings_of(parts.devices["camera"])
        assert (camera["_frame_timeout"], camera["_max_age"]) == (3.5, 0.25)
        assert camera["_opener"]["device"] == "/dev/video7"
        printer = settings_of(parts.devices["printer"])
        assert (printer["_status_timeout"], printer["_print_timeout"]) == (0.7, 4.5)
        assert printer["_connect"]["config"]["print_timeout_s"] == 4.5  # the I/O timeout
        thermometer = settings_of(parts.devices["thermometer"])
        assert thermometer["address"] == 0x5B and thermometer["_bus"]["bus_number"] == 3
    finally:
        kiosk.close()
        parts.close()


@pytest.fixture
def mock_pins() -> Iterator[None]:
    """gpiozero's default pin factory is a MockFactory, as real pins would be on a Pi."""
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    before = Device.pin_factory
    Device.pin_factory = MockFactory()
    yield
    Device.pin_factory.close()
    Device.pin_factory = before


def test_the_dropbox_self_test_builds_the_devices_the_box_runs(
    tmp_path: Path, mock_pins: None
) -> None:
    config = dropbox_config(
        tmp_path,
        pins={"beam": 7, "door": 8, "fill_trigger": 20, "fill_echo": 21},
        polarity={"door_open_level": "low"},
        printer={
            "enabled": True,
            "transport": "serial",
            "target": "/dev/ttyUSB9@19200",
            "print_timeout_s": 7.0,
        },
    )
    parts = hardware.build("dropbox", config, simulate=False, inject=frozenset())
    ctx = check.CheckContext(
        role="dropbox",
        device_id="dropbox-t",
        uplink=None,  # type: ignore[arg-type]
        broker=None,  # type: ignore[arg-type]
        clock=SystemClock(),
        hardware=parts,
    )
    for probe in parts.probes:  # the pins are opened by the probes that read them
        if probe.name in {"gpio", "fill"}:
            probe(ctx)
    tested = {name: settings_of(parts.devices[name]) for name in ("box", "fill", "printer")}
    parts.close()  # frees the pins for the app

    agent = dropbox_app.build(config, events=EventLog(device_id="dropbox-t"))
    try:
        assert tested["box"] == settings_of(agent.box)
        assert tested["fill"] == settings_of(agent.fill)
        assert tested["printer"] == settings_of(agent.printer)
    finally:
        agent.close()
    inputs = tested["box"]["_inputs"]
    assert inputs["beam"][0]["pin"] == "GPIO7" and inputs["door"] == [
        {"gpiozero": "InputDevice", "pin": "GPIO8"},
        False,  # open is the low level
    ]
    assert tested["printer"]["config"]["print_timeout_s"] == 7.0
