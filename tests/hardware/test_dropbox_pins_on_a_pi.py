"""On a wired box only (pytest -m hardware on the Pi): the real pins read and drive."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from configkit import load
from dropbox_agent.adapters import gpio
from dropbox_agent.config import DropboxConfig
from dropbox_agent.domain.model import Input, Output, OutputMode
from uplink import SystemClock

CONFIG = Path(os.environ.get("DROPBOX_CONFIG", "/etc/lapak/dropbox.toml"))

pytestmark = [
    pytest.mark.hardware,
    pytest.mark.skipif(not gpio.is_usable()[0], reason="no GPIO here (not a Raspberry Pi)"),
    pytest.mark.skipif(not CONFIG.exists(), reason=f"no box config at {CONFIG} (DROPBOX_CONFIG)"),
]


def test_a_closed_empty_box_reads_inactive_and_its_ready_led_lights() -> None:
    """Run with the door shut, the slot clear and the box mounted (tamper loop closed)."""
    config = load(DropboxConfig, CONFIG)
    box = gpio.GpioBox(config.pins, config.polarity, SystemClock())
    try:
        levels = box.levels()
        assert levels[Input.BEAM] is False, "beam reads blocked: check wiring and polarity"
        assert levels[Input.DOOR] is False, "door reads open: check the reed switch and magnet"
        assert levels[Input.TAMPER] is False, "tamper loop reads open: check the switches"
        box.set_output(Output.READY_LED, OutputMode.ON)
        assert box.output_mode(Output.READY_LED) is OutputMode.ON
    finally:
        box.close()


def test_the_fill_sensor_sees_the_bottom_of_an_empty_box() -> None:
    config = load(DropboxConfig, CONFIG)
    if not config.fill.enabled or config.pins.fill_trigger is None or config.pins.fill_echo is None:
        pytest.skip("no fill sensor configured")
    sensor = gpio.GpioFillSensor(config.pins.fill_trigger, config.pins.fill_echo)
    try:
        distance = sensor.read_distance_cm()
    finally:
        sensor.close()
    assert distance is not None, "no echo: check the HC-SR04's wiring and the echo divider"
    assert distance > config.fill.full_distance_cm
