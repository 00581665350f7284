"""The gpiozero adapter on MockFactory pins: polarity, timestamped edges, outputs, HC-SR04."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockTriggerPin

from dropbox_agent.adapters import gpio
from dropbox_agent.adapters.gpio import GpioBox, GpioFillSensor
from dropbox_agent.config import PinsConfig, PolarityConfig
from dropbox_agent.domain.model import Input, Output, OutputMode
from dropbox_agent.errors import HardwareUnavailable
from dropbox_agent.sim.box import SimulatedBox
from tests.dropbox_agent.conftest import PINS
from uplink import ManualClock

PIN_CONFIG = PinsConfig.model_validate(PINS)


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    made = MockFactory()
    yield made
    made.close()


def _box(factory: MockFactory, clock: ManualClock, **polarity: Any) -> SimulatedBox:
    return SimulatedBox(PIN_CONFIG, PolarityConfig.model_validate(polarity), clock, factory=factory)


def test_inputs_start_inactive_whatever_the_polarity(factory: MockFactory) -> None:
    box = _box(factory, ManualClock(), beam_blocked_level="low", key_on_level="high")
    assert box.levels() == dict.fromkeys((Input.BEAM, Input.DOOR, Input.TAMPER, Input.KEY), False)
    box.close()


@pytest.mark.parametrize("level", ["high", "low"])
def test_every_raw_edge_reaches_the_sink_with_its_meaning_and_time(
    factory: MockFactory, level: str
) -> None:
    clock = ManualClock()
    box = _box(factory, clock, beam_blocked_level=level)
    edges: list[tuple[Input, bool, float]] = []
    box.listen(lambda name, active, t: edges.append((name, active, t)))

    box.drive(Input.BEAM, True)
    assert factory.pin(PINS["beam"]).state == (level == "high")
    clock.advance(0.001)
    box.chatter(Input.BEAM, False, random.Random(3), bounces=2)
    assert edges[0] == (Input.BEAM, True, 1000.0)
    assert [a for _, a, _ in edges] == [True, False, True, False, True, False]
    assert edges[-1][2] == pytest.approx(1000.001)
    assert box.levels()[Input.BEAM] is False
    box.close()


def test_outputs_follow_modes_and_relay_polarity(factory: MockFactory) -> None:
    box = _box(factory, ManualClock(), uv_relay_active_high=False)
    assert factory.pin(PINS["uv_relay"]).state == 1  # active low relay: off is high
    box.set_output(Output.UV_RELAY, OutputMode.ON)
    assert factory.pin(PINS["uv_relay"]).state == 0
    assert box.output_on(Output.UV_RELAY)
    box.set_output(Output.READY_LED, OutputMode.ON)
    assert factory.pin(PINS["ready_led"]).state == 1
    box.set_output(Output.READY_LED, OutputMode.OFF)
    assert not box.output_on(Output.READY_LED)
    box.set_output(Output.FULL_LED, OutputMode.BLINK)
    assert box.output_mode(Output.FULL_LED) is OutputMode.BLINK
    box.close()


def test_a_beep_pulses_only_an_idle_buzzer(factory: MockFactory) -> None:
    box = _box(factory, ManualClock())
    buzzer = factory.pin(PINS["buzzer"])
    box.set_output(Output.BUZZER, OutputMode.ON)  # an alarm is sounding
    buzzer.clear_states()
    box.pulse(Output.BUZZER, 0.01)
    assert [s.state for s in buzzer.states] == [1]  # untouched
    box.set_output(Output.BUZZER, OutputMode.OFF)
    box.pulse(Output.BUZZER, 0.001)
    box.close()  # joins the blink thread
    assert [s.state for s in buzzer.states][:3] == [1, 0, 1]


def test_outputs_that_are_not_fitted_are_ignored(factory: MockFactory) -> None:
    pins = PinsConfig.model_validate({**PINS, "uv_relay": None, "full_led": None})
    box = SimulatedBox(pins, PolarityConfig(), ManualClock(), factory=factory)
    box.set_output(Output.UV_RELAY, OutputMode.ON)
    box.pulse(Output.FULL_LED, 0.1)
    assert not box.output_on(Output.UV_RELAY)
    box.close()


def test_a_stuck_sensor_ignores_the_hands_until_released(factory: MockFactory) -> None:
    box = _box(factory, ManualClock())
    box.stick(Input.DOOR, True)
    box.drive(Input.DOOR, False)
    assert box.is_active(Input.DOOR)
    box.unstick(Input.DOOR)
    box.drive(Input.DOOR, False)
    assert not box.is_active(Input.DOOR)
    box.close()


def test_a_pin_already_in_use_is_reported_as_hardware_unavailable(factory: MockFactory) -> None:
    first = GpioBox(PIN_CONFIG, PolarityConfig(), ManualClock(), pin_factory=factory)
    with pytest.raises(HardwareUnavailable, match=r"check \[pins\]"):
        GpioBox(PIN_CONFIG, PolarityConfig(), ManualClock(), pin_factory=factory)
    first.close()


def test_real_edges_are_dated_back_by_the_drivers_edge_age(factory: MockFactory) -> None:
    clock = ManualClock()
    box = GpioBox(PIN_CONFIG, PolarityConfig(), clock, pin_factory=factory)
    edges: list[float] = []
    box.listen(lambda _n, _a, t: edges.append(t))
    factory.pin(PINS["door"]).drive_low()  # the edge's ticks are a moment before the callback
    box.close()
    assert len(edges) == 1
    assert edges[0] <= clock.monotonic()


def test_is_usable_says_what_to_do_without_gpio(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Device, "pin_factory", MockFactory())
    assert gpio.is_usable() == (True, "pin factory MockFactory")
    monkeypatch.setattr(Device, "pin_factory", None)
    usable, why = gpio.is_usable()
    if usable:  # pragma: no cover - only on a Raspberry Pi
        pytest.skip("real GPIO present")
    assert "dropbox-agent simulate" in why


def test_fill_sensor_measures_the_echo_width(factory: MockFactory) -> None:
    echo = factory.pin(PINS["fill_echo"])
    factory.pin(PINS["fill_trigger"], pin_class=MockTriggerPin, echo_pin=echo, echo_time=0.004)
    sensor = GpioFillSensor(
        PINS["fill_trigger"], PINS["fill_echo"], pin_factory=factory, samples=3, ping_gap_s=0
    )
    reading = sensor.read_distance_cm()
    sensor.close()
    assert reading is not None
    assert reading >= 0.004 * gpio.SPEED_OF_SOUND_CM_S / 2 - 0.1  # 68.6 cm, or a bit more


def test_fill_sensor_without_echo_reads_none(factory: MockFactory) -> None:
    sensor = GpioFillSensor(
        PINS["fill_trigger"], PINS["fill_echo"], pin_factory=factory, samples=2, ping_gap_s=0
    )
    assert sensor.read_distance_cm() is None
    sensor.close()
