"""The box's devices as its config wires them, real or simulated, and whether each works here.

The one place pins, fill sensor, slip printer and keypad are made from the config:
`dropbox_agent.app` builds the agent from them and `provision check` tests the very same
devices (it only adds probes). gpiozero and python-escpos load inside the adapters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dropbox_agent.config import DropboxConfig
from dropbox_agent.ports import BoxIO, FillSensor, LineSource, ReceiptPrinter
from receipts.wiring import printer_usable
from uplink import Clock

if TYPE_CHECKING:  # the simulators (and the renderer behind their slips) load only when used
    from dropbox_agent.sim.box import SimulatedBox
    from dropbox_agent.sim.devices import SimulatedFillSensor, SimulatedKeypad, SimulatedPrinter

Usable = Callable[[], tuple[bool, str]]
"""A device's answer to "can you work here?": (usable, why), asked without opening it."""


def build_box(config: DropboxConfig, clock: Clock, *, pin_factory: Any = None) -> BoxIO:
    """The box's inputs and outputs on the configured pins (gpiozero's default pin factory).

    Raises:
        HardwareUnavailable: gpiozero finds no usable GPIO here.
    """
    from dropbox_agent.adapters.gpio import GpioBox

    return GpioBox(config.pins, config.polarity, clock, pin_factory=pin_factory)


def build_fill_sensor(config: DropboxConfig) -> FillSensor | None:
    """The ultrasonic fill sensor, when the config fits one (None otherwise).

    Raises:
        HardwareUnavailable: gpiozero cannot open its pins.
    """
    trigger, echo = config.pins.fill_trigger, config.pins.fill_echo
    if not config.fill.enabled or trigger is None or echo is None:
        return None  # the config validator gives an enabled sensor both pins
    from dropbox_agent.adapters.gpio import GpioFillSensor

    return GpioFillSensor(trigger, echo)


def build_printer(config: DropboxConfig) -> ReceiptPrinter | None:
    """The slip printer the config names, with its timeouts (None when not fitted); nothing is
    opened before the first slip."""
    if not config.printer.enabled:
        return None
    from dropbox_agent.adapters.receipt import EscposPrinter

    return EscposPrinter(config.printer)


def build_keypad(config: DropboxConfig) -> LineSource | None:
    """The keypad or code scanner the officers type into (None when not fitted)."""
    if config.collection.input_path is None:
        return None
    from dropbox_agent.adapters.lines import DeviceLineSource

    return DeviceLineSource(config.collection.input_path)


def gpio_usable() -> tuple[bool, str]:
    """Whether gpiozero finds real GPIO here."""
    from dropbox_agent.adapters import gpio

    return gpio.is_usable()


def usability(config: DropboxConfig) -> dict[str, Usable]:
    """Each fitted device's "can you work here?", asked when wanted (`provision check`)."""
    usable: dict[str, Usable] = {"gpio": gpio_usable}
    if config.printer.enabled:
        usable["printer"] = lambda: printer_usable(config.printer)
    return usable


@dataclass
class SimulatedDevices:
    """The simulated twins of the box's devices, as the config fits them (None: not fitted)."""

    box: SimulatedBox
    keypad: SimulatedKeypad
    fill: SimulatedFillSensor | None
    printer: SimulatedPrinter | None


def build_simulated_devices(
    config: DropboxConfig, clock: Clock, *, slips_dir: Path | None = None
) -> SimulatedDevices:
    """The box's devices simulated: MockFactory pins through the real GPIO adapter, a keypad,
    a fill sensor and a slip printer rendering PNGs into `slips_dir` (when the config fits them).
    """
    from dropbox_agent.sim.box import SimulatedBox
    from dropbox_agent.sim.devices import SimulatedFillSensor, SimulatedKeypad, SimulatedPrinter

    printer = None
    if config.printer.enabled:
        printer = SimulatedPrinter(
            slips_dir, columns=config.printer.columns, paper_dots=config.printer.paper_dots
        )
    return SimulatedDevices(
        box=SimulatedBox(config.pins, config.polarity, clock),
        keypad=SimulatedKeypad(),
        fill=SimulatedFillSensor() if config.fill.enabled else None,
        printer=printer,
    )
