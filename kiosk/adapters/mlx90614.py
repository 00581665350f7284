"""The MLX90614 contactless thermometer over I2C with smbus2 (imported only when opened).

RAM registers: 0x06 ambient, 0x07 object 1; °C = raw × 0.02 − 273.15; bit 15 set flags an error.
With ``bus.pec = True`` the kernel checks the SMBus packet error code (a corrupted word raises
OSError instead of returning a wrong temperature). A missing device raises OSError errno 121.
"""

from __future__ import annotations

import errno
import importlib.util
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from kiosk.domain.temperature import Reading
from kiosk.errors import ThermometerError

logger = logging.getLogger(__name__)

DEFAULT_ADDRESS = 0x5A
REG_AMBIENT = 0x06
REG_OBJECT = 0x07
ERROR_FLAG = 0x8000


class Bus(Protocol):
    """The part of `smbus2.SMBus` we use (tests pass a fake with the same method)."""

    def read_word_data(self, i2c_addr: int, register: int) -> int: ...


def raw_to_celsius(raw: int) -> float:
    """Convert a register word to degrees Celsius (0.02 K per bit)."""
    return round(raw * 0.02 - 273.15, 2)


def is_usable(bus_number: int = 1) -> tuple[bool, str]:
    """Whether the I2C bus exists and smbus2 is installed (the device itself is probed by
    reading it)."""
    if importlib.util.find_spec("smbus2") is None:
        return False, "smbus2 is not installed"
    device = Path(f"/dev/i2c-{bus_number}")
    if not device.exists():
        return False, f"{device} is missing; enable I2C (dtparam=i2c_arm=on) and reboot"
    return True, f"{device} present"


def open_bus(bus_number: int = 1) -> Any:
    """An `smbus2.SMBus` with PEC checking on."""
    from smbus2 import SMBus

    bus = SMBus(bus_number)
    bus.pec = True
    return bus


class LazyBus:
    """`/dev/i2c-N`, opened on first use and again after a failure: a missing bus is then a
    thermometer fault (the gate falls back to the officer) rather than a kiosk that cannot start.

    Args:
        bus_number: N in /dev/i2c-N.
        opener: opens the bus (default `open_bus`, PEC on).
    """

    def __init__(self, bus_number: int = 1, opener: Callable[[int], Bus] | None = None) -> None:
        self.bus_number = bus_number
        self._opener = opener or open_bus
        self._bus: Bus | None = None

    def read_word_data(self, i2c_addr: int, register: int) -> int:
        if self._bus is None:
            try:
                self._bus = self._opener(self.bus_number)
            except OSError as exc:
                raise ThermometerError(
                    f"cannot open I2C bus /dev/i2c-{self.bus_number} ({exc.strerror or exc}); "
                    "enable I2C (dtparam=i2c_arm=on in config.txt) and reboot",
                    "missing",
                ) from exc
        try:
            return self._bus.read_word_data(i2c_addr, register)
        except OSError:
            if not Path(f"/dev/i2c-{self.bus_number}").exists():
                self._bus = None  # the adapter went away: reopen next time
            raise


class Mlx90614:
    """A `Thermometer` reading object and ambient temperature from one MLX90614.

    Args:
        bus: an opened bus (`open_bus()`), or a fake with `read_word_data`.
        address: the sensor's 7-bit address.
    """

    def __init__(self, bus: Bus, address: int = DEFAULT_ADDRESS) -> None:
        self._bus = bus
        self.address = address

    def read(self) -> Reading:
        return Reading(self._register(REG_OBJECT), self._register(REG_AMBIENT))

    def _register(self, register: int) -> float:
        try:
            raw = self._bus.read_word_data(self.address, register)
        except ThermometerError:
            raise
        except OSError as exc:
            if exc.errno in (errno.EREMOTEIO, errno.ENXIO):
                raise ThermometerError(
                    f"no MLX90614 answers at I2C address {self.address:#04x}; check its wiring "
                    "and address (i2cdetect -y 1)",
                    "missing",
                ) from exc
            if exc.errno == errno.EBADMSG:
                raise ThermometerError(
                    "MLX90614 reply failed its checksum (PEC); check the cable length and pull-ups",
                    "bad_checksum",
                ) from exc
            raise ThermometerError(f"MLX90614 read failed: {exc}", "read_failed") from exc
        if raw & ERROR_FLAG:
            raise ThermometerError(
                f"MLX90614 flags an error in register {register:#04x} (raw {raw:#06x})",
                "error_flag",
            )
        return raw_to_celsius(raw)
