"""MLX90614 over SMBus: a contract test against a fake bus that computes PEC like the kernel."""

from __future__ import annotations

import errno
import sys
import types

import pytest

from kiosk.adapters.mlx90614 import (
    DEFAULT_ADDRESS,
    REG_AMBIENT,
    REG_OBJECT,
    LazyBus,
    Mlx90614,
    is_usable,
    open_bus,
    raw_to_celsius,
)
from kiosk.errors import ThermometerError


def crc8(data: bytes) -> int:
    """SMBus PEC: CRC-8, polynomial x^8 + x^2 + x + 1, initial value 0."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def raw_of(celsius: float) -> int:
    return round((celsius + 273.15) / 0.02)


class FakeSmbus:
    """`smbus2.SMBus.read_word_data` as the kernel does it for one MLX90614 on the wire.

    The device sends LSB, MSB and a PEC byte over (address+W, command, address+R, LSB, MSB).
    With `pec` on, a mismatch raises EBADMSG; with it off the corrupted word comes through.
    """

    def __init__(self, address: int = DEFAULT_ADDRESS) -> None:
        self.address = address
        self.pec = False
        self.registers = {REG_AMBIENT: raw_of(26.0), REG_OBJECT: raw_of(36.5)}
        self.flip_bit: int | None = None  # corrupt this bit of the next word on the wire
        self.calls: list[tuple[int, int]] = []

    def read_word_data(self, i2c_addr: int, register: int) -> int:
        self.calls.append((i2c_addr, register))
        if i2c_addr != self.address:
            raise OSError(errno.EREMOTEIO, "Remote I/O error")
        word = self.registers[register]
        lsb, msb = word & 0xFF, word >> 8
        pec = crc8(bytes([i2c_addr << 1, register, (i2c_addr << 1) | 1, lsb, msb]))
        if self.flip_bit is not None:
            word ^= 1 << self.flip_bit
            lsb, msb = word & 0xFF, word >> 8
            self.flip_bit = None
        if (
            self.pec
            and crc8(bytes([i2c_addr << 1, register, (i2c_addr << 1) | 1, lsb, msb])) != pec
        ):
            raise OSError(errno.EBADMSG, "Bad message")
        return word


def test_object_and_ambient_registers_convert_to_celsius() -> None:
    bus = FakeSmbus()

    reading = Mlx90614(bus).read()

    assert reading.object_c == pytest.approx(36.5, abs=0.02)
    assert reading.ambient_c == pytest.approx(26.0, abs=0.02)
    assert bus.calls == [(0x5A, 0x07), (0x5A, 0x06)]


def test_the_datasheet_conversion() -> None:
    assert raw_to_celsius(0x3AF7) == pytest.approx(0x3AF7 * 0.02 - 273.15, abs=0.01)
    assert raw_to_celsius(13657) == pytest.approx(0.0, abs=0.01)


def test_the_error_flag_is_a_fault_not_a_temperature() -> None:
    bus = FakeSmbus()
    bus.registers[REG_OBJECT] = 0x8000 | raw_of(36.5)

    with pytest.raises(ThermometerError) as raised:
        Mlx90614(bus).read()
    assert raised.value.code == "error_flag"


def test_with_pec_a_corrupted_word_is_a_checksum_fault() -> None:
    bus = FakeSmbus()
    bus.pec = True
    bus.flip_bit = 9

    with pytest.raises(ThermometerError) as raised:
        Mlx90614(bus).read()
    assert raised.value.code == "bad_checksum"
    assert "PEC" in str(raised.value)


def test_without_pec_the_same_corruption_would_pass_as_a_wrong_temperature() -> None:
    bus = FakeSmbus()
    bus.flip_bit = 9  # 512 x 0.02 = 10.24 degrees off

    assert Mlx90614(bus).read().object_c == pytest.approx(36.5 + 10.24, abs=0.03)


def test_a_missing_sensor_says_how_to_find_it() -> None:
    with pytest.raises(ThermometerError) as raised:
        Mlx90614(FakeSmbus(address=0x5B)).read()
    assert raised.value.code == "missing"
    assert "i2cdetect" in str(raised.value)


def test_other_bus_errors_are_read_failures() -> None:
    class Broken:
        def read_word_data(self, i2c_addr: int, register: int) -> int:
            raise OSError(errno.EIO, "Input/output error")

    with pytest.raises(ThermometerError) as raised:
        Mlx90614(Broken()).read()
    assert raised.value.code == "read_failed"


def test_the_bus_is_opened_with_pec_on(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[FakeSmbus] = []

    def smbus(number: int) -> FakeSmbus:
        assert number == 3
        opened.append(FakeSmbus())
        return opened[-1]

    monkeypatch.setitem(sys.modules, "smbus2", types.SimpleNamespace(SMBus=smbus))

    bus = open_bus(3)

    assert bus is opened[0] and bus.pec is True


def test_usable_only_with_an_i2c_bus() -> None:
    ok, why = is_usable(29)
    assert not ok and ("/dev/i2c-29" in why or "smbus2" in why)


def test_a_missing_bus_is_a_sensor_fault_and_is_opened_again_later() -> None:
    opened: list[int] = []

    def opener(number: int) -> FakeSmbus:
        opened.append(number)
        if len(opened) == 1:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory")
        return FakeSmbus()

    sensor = Mlx90614(LazyBus(7, opener))

    with pytest.raises(ThermometerError) as raised:
        sensor.read()
    assert raised.value.code == "missing"
    assert "dtparam=i2c_arm=on" in str(raised.value)
    assert sensor.read().object_c == pytest.approx(36.5, abs=0.02)
    assert opened == [7, 7]
