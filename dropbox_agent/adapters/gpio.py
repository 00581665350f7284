"""The box's GPIO through gpiozero: inputs with timestamped edges, LEDs, buzzer, relay, HC-SR04.

Real pins use gpiozero's default pin factory (lgpio on a Pi); the simulator passes a
`MockFactory`. gpiozero is imported lazily, inside this module's classes, so the rest of the agent
loads anywhere. Debouncing is not done here (`bounce_time` is unreliable and mock pins ignore
it): every raw edge goes to the state machine with its time.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from statistics import median
from typing import Any

from dropbox_agent.config import PinsConfig, PolarityConfig
from dropbox_agent.domain.model import Input, Output, OutputMode
from dropbox_agent.errors import HardwareUnavailable
from dropbox_agent.ports import EdgeSink
from uplink.clock import Clock

logger = logging.getLogger(__name__)

SPEED_OF_SOUND_CM_S = 34_326.0
ECHO_TIMEOUT_S = 0.06  # HC-SR04 pulses last at most ~38 ms


def is_usable() -> tuple[bool, str]:
    """Whether gpiozero finds real GPIO here (for `provision check` and `dropbox-agent run`)."""
    try:
        from gpiozero import Device
    except ImportError as exc:  # pragma: no cover - gpiozero is a dependency
        return False, f"gpiozero is not installed ({exc})"
    if Device.pin_factory is not None:
        return True, f"pin factory {type(Device.pin_factory).__name__}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # gpiozero warns for every factory it falls back from
            Device.ensure_pin_factory()
    except Exception as exc:  # gpiozero raises BadPinFactory, ImportError, OSError...
        return False, (
            f"no GPIO here ({exc}); on a Raspberry Pi install python3-lgpio, elsewhere use "
            "`dropbox-agent simulate`"
        )
    return True, f"pin factory {type(Device.pin_factory).__name__}"


class _EdgeWatcher:
    """Turns one pin's `when_changed(ticks, state)` into `sink(input, active, t)`.

    gpiozero keeps only a weak reference to the callback, so the box holds these objects.
    """

    def __init__(
        self,
        name: Input,
        active_high: bool,
        factory: Any,
        clock: Clock,
        sink: EdgeSink,
        correct_age: bool,
    ) -> None:
        self.name, self.active_high = name, active_high
        self.factory, self.clock, self.sink = factory, clock, sink
        self.correct_age = correct_age

    def changed(self, ticks: Any, state: int) -> None:
        now = self.clock.monotonic()
        if self.correct_age:
            # The edge happened `age` ago (kernel timestamp); our callback runs a bit later.
            age = self.factory.ticks_diff(self.factory.ticks(), ticks)
            if 0 <= age < 1.0:
                now -= age
        self.sink(self.name, bool(state) == self.active_high, now)


class GpioBox:
    """The box's inputs and outputs on gpiozero devices.

    Args:
        pins: which GPIO does what.
        polarity: which level means active.
        clock: gives edges their monotonic time.
        pin_factory: None for gpiozero's default (real pins), or a `MockFactory`.
        correct_edge_age: subtract the pin driver's edge age (real pins); the simulator, whose
            mock edges happen at the clock's current time, turns it off.

    Raises:
        HardwareUnavailable: gpiozero found no usable GPIO.
    """

    def __init__(
        self,
        pins: PinsConfig,
        polarity: PolarityConfig,
        clock: Clock,
        *,
        pin_factory: Any = None,
        correct_edge_age: bool = True,
    ) -> None:
        from gpiozero import DigitalOutputDevice, GPIOZeroError, InputDevice

        self._clock = clock
        self._correct_age = correct_edge_age
        self._lock = threading.Lock()
        self._watchers: list[_EdgeWatcher] = []
        self._modes: dict[Output, OutputMode] = {}
        input_pins: list[tuple[Input, int | None, str]] = [
            (Input.BEAM, pins.beam, polarity.beam_blocked_level),
            (Input.DOOR, pins.door, polarity.door_open_level),
            (Input.TAMPER, pins.tamper, polarity.tamper_active_level),
            (Input.KEY, pins.key_switch, polarity.key_on_level),
        ]
        output_pins: list[tuple[Output, int | None, bool]] = [
            (Output.READY_LED, pins.ready_led, True),
            (Output.FULL_LED, pins.full_led, True),
            (Output.ALARM_LED, pins.alarm_led, True),
            (Output.BUZZER, pins.buzzer, True),
            (Output.UV_RELAY, pins.uv_relay, polarity.uv_relay_active_high),
        ]
        self._inputs: dict[Input, tuple[Any, bool]] = {}
        self._outputs: dict[Output, Any] = {}
        try:
            for name, pin, level in input_pins:
                if pin is not None:
                    # Every input is a switch or open collector to ground: internal pull-up.
                    device = InputDevice(pin, pull_up=True, pin_factory=pin_factory)
                    device.pin.edges = "both"
                    self._inputs[name] = (device, level == "high")
            for output, pin, active_high in output_pins:
                if pin is not None:
                    self._outputs[output] = DigitalOutputDevice(
                        pin, active_high=active_high, initial_value=False, pin_factory=pin_factory
                    )
        except GPIOZeroError as exc:
            self.close()
            raise HardwareUnavailable(
                f"cannot open the box's GPIO ({exc}); check [pins] in the config and that "
                "this is a Raspberry Pi with python3-lgpio (or use `dropbox-agent simulate`)"
            ) from exc

    def levels(self) -> dict[Input, bool]:
        return {
            name: bool(device.pin.state) == active_high
            for name, (device, active_high) in self._inputs.items()
        }

    def listen(self, sink: EdgeSink) -> None:
        for name, (device, active_high) in self._inputs.items():
            watcher = _EdgeWatcher(
                name, active_high, device.pin_factory, self._clock, sink, self._correct_age
            )
            self._watchers.append(watcher)
            device.pin.when_changed = watcher.changed

    def set_output(self, output: Output, mode: OutputMode) -> None:
        device = self._outputs.get(output)
        with self._lock:
            self._modes[output] = mode
            if device is None:
                return
            if mode is OutputMode.ON:
                device.on()
            elif mode is OutputMode.BLINK:
                device.blink(on_time=0.5, off_time=0.5)
            else:
                device.off()

    def pulse(self, output: Output, seconds: float) -> None:
        device = self._outputs.get(output)
        with self._lock:
            if device is None or self._modes.get(output, OutputMode.OFF) is not OutputMode.OFF:
                return
            device.blink(on_time=seconds, off_time=0, n=1, background=True)

    def output_mode(self, output: Output) -> OutputMode:
        """The mode last set (for displays and tests)."""
        return self._modes.get(output, OutputMode.OFF)

    def close(self) -> None:
        for device, _active_high in self._inputs.values():
            device.close()
        for device in self._outputs.values():
            device.close()
        self._inputs.clear()
        self._outputs.clear()
        self._watchers.clear()


class GpioFillSensor:
    """An HC-SR04 ultrasonic sensor read on demand through gpiozero pins.

    gpiozero's `DistanceSensor` pings ~16 times a second forever in a background thread (not
    event driven) and its `.distance` blocks for good when no echo comes back; this class uses the
    same timing on gpiozero's pin API, but pings only when asked.

    Args:
        trigger, echo: BCM pins.
        pin_factory: None for real pins, or a `MockFactory`.
        samples: pings per reading (the median is returned).
        ping_gap_s: pause between pings (0 for mock pins).

    Raises:
        HardwareUnavailable: gpiozero cannot open the pins.
    """

    def __init__(
        self,
        trigger: int,
        echo: int,
        *,
        pin_factory: Any = None,
        samples: int = 5,
        ping_gap_s: float = 0.06,
    ) -> None:
        from gpiozero import DigitalOutputDevice, GPIOZeroError, InputDevice

        self._samples = samples
        self._gap_s = ping_gap_s  # let the previous ping's echoes die out
        try:
            self._trigger = DigitalOutputDevice(
                trigger, initial_value=False, pin_factory=pin_factory
            )
        except GPIOZeroError as exc:
            raise HardwareUnavailable(
                f"cannot open the fill sensor's trigger GPIO{trigger} ({exc}); check [pins] and "
                "that this is a Raspberry Pi (or use `dropbox-agent simulate`)"
            ) from exc
        try:
            self._echo = InputDevice(echo, pull_up=False, pin_factory=pin_factory)
        except GPIOZeroError as exc:
            self._trigger.close()
            raise HardwareUnavailable(
                f"cannot open the fill sensor's echo GPIO{echo} ({exc}); check [pins]"
            ) from exc
        self._factory = self._echo.pin_factory
        self._rise: Any = None
        self._fall: Any = None
        self._done = threading.Event()
        self._echo.pin.edges = "both"
        self._echo.pin.when_changed = self._changed

    def _changed(self, ticks: Any, state: int) -> None:
        if state:
            self._rise = ticks
        elif self._rise is not None:
            self._fall = ticks
            self._done.set()

    def ping_cm(self) -> float | None:
        """One measurement, or None without an echo."""
        self._rise = self._fall = None
        self._done.clear()
        self._trigger.on()
        self._trigger.off()  # the pin call itself lasts longer than the 10 us trigger pulse
        if not self._done.wait(ECHO_TIMEOUT_S) or self._rise is None:
            return None
        width = self._factory.ticks_diff(self._fall, self._rise)
        return float(width * SPEED_OF_SOUND_CM_S / 2)

    def read_distance_cm(self) -> float | None:
        readings = []
        for n in range(self._samples):
            if n and self._gap_s:
                time.sleep(self._gap_s)
            reading = self.ping_cm()
            if reading is not None:
                readings.append(reading)
        if len(readings) * 2 <= self._samples:
            return None
        return round(median(readings), 1)

    def close(self) -> None:
        self._echo.close()
        self._trigger.close()
