"""The devices `provision check` tests, real or simulated, and their functional probes.

The apps' adapters are imported here lazily, per role, so `provision` runs on a machine that
has only one app's hardware libraries (and never imports picamera2 off a Pi).
"""

from __future__ import annotations

import logging
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from provisioning.check import CheckContext, FunctionCheck, Hardware, Outcome

logger = logging.getLogger(__name__)

# What `provision check --simulate --fail ...` can break in the simulated hardware.
INJECTABLE = frozenset({"camera", "qr", "thermometer", "printer", "gpio"})
# The QR test card: `provision test-card --out card.png` (print it), or the printer test ticket.
TEST_CARD_TEXT = "LAPAK-ASIK-TEST-CARD"
# Plausible MLX90614 readings in a branch lobby with nobody in front of the sensor, °C.
AMBIENT_RANGE_C = (5.0, 50.0)
OBJECT_RANGE_C = (-10.0, 60.0)


@dataclass(frozen=True)
class Usability:
    """An adapter's answer to "can you work here?" (`is_usable()`), however the app exposes it."""

    answer: Callable[[], tuple[bool, str]]

    def is_usable(self) -> tuple[bool, str]:
        return self.answer()


def build(role: str, config: BaseModel, *, simulate: bool, inject: frozenset[str]) -> Hardware:
    """The role's adapters and probes (simulated ones told to fail as `inject` says)."""
    if role == "kiosk":
        return _kiosk(config, simulate=simulate, inject=inject)
    return _dropbox(config, simulate=simulate, inject=inject)


def test_card_png(path: Path, *, module_px: int = 12) -> Path:
    """Write the QR test card as a PNG to print (about 5 cm wide at 300 dpi)."""
    from PIL import Image

    from kiosk.sim.frames import qr_image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(qr_image(TEST_CARD_TEXT, module_px=module_px, quiet_modules=4)).save(path)
    return path


def test_card_frame() -> Any:
    """A camera frame showing the QR test card (what the simulated camera sees)."""
    from kiosk.sim.frames import place, qr_image

    return place(qr_image(TEST_CARD_TEXT, module_px=6))


# -- kiosk ---------------------------------------------------------------------------------------


def _kiosk(config: Any, *, simulate: bool, inject: frozenset[str]) -> Hardware:
    if simulate:
        camera, thermometer, printer, usable = _kiosk_simulated(config, inject)
    else:
        camera, thermometer, printer, usable = _kiosk_real(config)
    can_read_status = simulate or config.printer.transport != "file"
    frames: dict[str, Any] = {}

    def camera_frame(_ctx: CheckContext) -> Outcome:
        ok, why = usable["camera"]()
        if not ok:
            return Outcome.fail(f"not tried: {why}", "fix the camera first")
        camera.start()
        deadline = time.monotonic() + config.camera.frame_timeout_s + 3.0
        sample = None
        while sample is None and time.monotonic() < deadline:
            sample = camera.latest()
            if sample is None:
                time.sleep(0.05)  # waiting for real hardware, not for a test's timing
        if sample is None:
            return Outcome.fail(
                "no frame from the camera", "check the camera ribbon cable and `rpicam-hello`"
            )
        frames["last"] = sample.image
        height, width = sample.image.shape[:2]
        return Outcome.ok(f"{width}x{height} frame from {camera.name}")

    def qr_card(_ctx: CheckContext) -> Outcome:
        from kiosk.adapters.qr import QrDecoder

        if "last" not in frames:
            return Outcome.fail("not tried: no camera frame", "fix the camera first")
        result = QrDecoder().decode(frames["last"], exhaustive=True)
        if TEST_CARD_TEXT in result.texts:
            return Outcome.ok(f"test card read in {result.ms:.1f} ms ({result.strategy})")
        return Outcome.fail(
            f"test card not read (saw {len(result.texts)} other codes)",
            "hold the printed QR test card 20-40 cm in front of the camera, in good light "
            "(docs/hardware.md); clean or refocus the lens",
        )

    def thermometer_reading(_ctx: CheckContext) -> Outcome:
        from kiosk.errors import ThermometerError

        try:
            reading = thermometer.read()
        except ThermometerError as exc:
            return Outcome.fail(
                f"no reading: {exc}", "check the MLX90614 wiring on I2C-1 (docs/hardware.md)"
            )
        low, high = AMBIENT_RANGE_C
        olow, ohigh = OBJECT_RANGE_C
        if not (low <= reading.ambient_c <= high and olow <= reading.object_c <= ohigh):
            return Outcome.fail(
                f"implausible: object {reading.object_c:.1f} °C, "
                f"ambient {reading.ambient_c:.1f} °C",
                "the sensor or its address is wrong; replace the MLX90614",
            )
        return Outcome.ok(f"object {reading.object_c:.1f} °C, ambient {reading.ambient_c:.1f} °C")

    def printer_status(_ctx: CheckContext) -> Outcome:
        from kiosk.ports import PaperStatus

        ok, why = usable["printer"]()
        if not ok:
            return Outcome.fail(f"not tried: {why}", "fix the printer first")
        if not can_read_status:
            return Outcome.skip("transport 'file' cannot read the printer's status")
        status = printer.status()
        if status is PaperStatus.OK:
            return Outcome.ok("online, paper OK")
        return Outcome.fail(
            f"printer status: {status.value}",
            "load paper, close the cover, check power and the USB cable",
        )

    def printer_ticket(ctx: CheckContext) -> Outcome:
        from receipts import Cut, Feed, Line, PrinterError, QrCode

        ok, why = usable["printer"]()
        if not ok:
            return Outcome.fail(f"not tried: {why}", "fix the printer first")

        elements = [
            Line("TES PRINTER", align="center", size="double", bold=True),
            Line("Printer test", align="center"),
            Line(f"{ctx.device_id}  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", align="center"),
            QrCode(TEST_CARD_TEXT),
            Line("Kartu uji QR / QR test card", align="center"),
            Feed(2),
            Cut(),
        ]
        try:
            printer.print_elements(elements)
        except PrinterError as exc:
            return Outcome.fail(f"test ticket not printed: {exc}", "check paper and the cable")
        return Outcome.ok("test ticket printed (keep it: its QR is a test card)")

    probes = [
        FunctionCheck("camera", "camera frame", camera_frame),
        FunctionCheck("qr", "QR test card decoded", qr_card),
        FunctionCheck("thermometer", "thermometer reading sane", thermometer_reading),
        FunctionCheck("printer", "printer status", printer_status),
        FunctionCheck("ticket", "printer test ticket", printer_ticket),
    ]

    def close() -> None:
        camera.stop()
        closer = getattr(printer, "close", None)
        if closer is not None:
            closer()

    adapters = {name: Usability(answer) for name, answer in usable.items()}
    return Hardware(adapters=dict(adapters), probes=list(probes), close=close)


UsableMap = dict[str, Callable[[], tuple[bool, str]]]


def _kiosk_simulated(config: Any, inject: frozenset[str]) -> tuple[Any, Any, Any, UsableMap]:
    from kiosk.ports import PaperStatus
    from kiosk.sim.camera import ScriptedCamera
    from kiosk.sim.frames import blank_frame
    from kiosk.sim.printer import SimulatedPrinter
    from kiosk.sim.thermometer import SimulatedThermometer

    camera = ScriptedCamera("simulated camera")
    # A broken QR read is a card the camera cannot see: an empty scene.
    camera.show(blank_frame() if "qr" in inject else test_card_frame())
    if "camera" in inject:
        camera.fail(True)
    thermometer = SimulatedThermometer(object_c=29.5, ambient_c=27.0)
    if "thermometer" in inject:
        thermometer.fail("missing")
    printer = SimulatedPrinter(columns=config.printer.columns, render=False)
    if "printer" in inject:
        printer.set_status(PaperStatus.OFFLINE)

    def answer(name: str) -> Callable[[], tuple[bool, str]]:
        def usable() -> tuple[bool, str]:
            if name in inject:
                return False, f"simulated {name} told to fail"
            return True, f"simulated {name}"

        return usable

    return (
        camera,
        thermometer,
        printer,
        {n: answer(n) for n in ("camera", "thermometer", "printer")},
    )


def _kiosk_real(config: Any) -> tuple[Any, Any, Any, UsableMap]:
    from kiosk.adapters import mlx90614
    from kiosk.app import build_printer
    from receipts import escpos_printer

    cam = config.camera
    camera: Any
    if cam.source == "picamera2":
        from kiosk.adapters import picamera

        camera = picamera.picamera2_source(cam.camera_num, width=cam.width_px, height=cam.height_px)
        camera_usable: Callable[[], tuple[bool, str]] = picamera.is_usable
    elif cam.source == "usb":
        from kiosk.adapters import usbcam

        camera = usbcam.usb_source(cam.device, width=cam.width_px, height=cam.height_px)
        camera_usable = lambda: usbcam.is_usable(cam.device)  # noqa: E731
    else:
        from kiosk.sim.camera import FolderCamera

        camera = FolderCamera(cam.folder)
        camera_usable = lambda: (cam.folder.is_dir(), f"folder {cam.folder}")  # noqa: E731

    therm = config.thermometer
    thermometer_usable = lambda: mlx90614.is_usable(therm.i2c_bus)  # noqa: E731
    thermometer: Any = _LazyThermometer(
        lambda: mlx90614.Mlx90614(mlx90614.open_bus(therm.i2c_bus), therm.address)
    )
    pr = config.printer
    printer = build_printer(config)  # the kiosk's own wiring: the same port and timeouts

    def printer_usable() -> tuple[bool, str]:
        if pr.transport == "file" and not _is_char_device(Path(pr.target)):
            # Writing to a missing node would create a plain file and "print" into it.
            return False, (
                f"{pr.target} is not a printer device: plug the USB printer in and switch it on "
                "(the udev rule makes /dev/lapak-printer)"
            )
        return escpos_printer.is_usable(pr.transport, pr.target)

    return (
        camera,
        thermometer,
        printer,
        {"camera": camera_usable, "thermometer": thermometer_usable, "printer": printer_usable},
    )


def _is_char_device(path: Path) -> bool:
    try:
        return stat.S_ISCHR(path.stat().st_mode)
    except OSError:
        return False


class _LazyThermometer:
    """Opens the I2C bus on first read, so a missing bus is a failed check, not a crash."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._device: Any = None

    def read(self) -> Any:
        from kiosk.errors import ThermometerError

        if self._device is None:
            try:
                self._device = self._make()
            except OSError as exc:
                raise ThermometerError(f"cannot open the I2C bus: {exc}", "missing") from exc
        return self._device.read()


# -- dropbox -------------------------------------------------------------------------------------


def _dropbox(config: Any, *, simulate: bool, inject: frozenset[str]) -> Hardware:
    from dropbox_agent.adapters import gpio, receipt
    from uplink import SystemClock

    factory: Any = None
    if simulate:
        from gpiozero.pins.mock import MockFactory

        factory = MockFactory()
    state: dict[str, Any] = {}

    def open_box() -> Any:
        if "box" not in state:
            state["box"] = gpio.GpioBox(
                config.pins,
                config.polarity,
                SystemClock(),
                pin_factory=factory,
                correct_edge_age=not simulate,
            )
            if factory is not None:
                _rest_levels(factory, config, broken="gpio" in inject)
        return state["box"]

    def gpio_usable() -> tuple[bool, str]:
        if simulate:
            if "gpio" in inject:
                return True, "simulated pins (one input told to read as a cut wire)"
            return True, "simulated pins (gpiozero MockFactory)"
        return gpio.is_usable()

    def gpio_inputs(_ctx: CheckContext) -> Outcome:
        from dropbox_agent.errors import HardwareUnavailable

        ok, why = gpio_usable()
        if not ok:
            return Outcome.fail(f"not tried: {why}", "fix the GPIO first")
        try:
            levels = open_box().levels()
        except HardwareUnavailable as exc:
            return Outcome.fail(f"cannot open the pins: {exc}", "see docs/hardware.md (dropbox)")
        # At rest (beam clear, door closed, tamper loop closed, key off) nothing is active; an
        # active input is a blocked slot, an open door or a cut wire (the fail-safe level).
        active = sorted(name.value for name, level in levels.items() if level)
        read = ", ".join(
            f"{name.value}={'ACTIVE' if lv else 'rest'}" for name, lv in levels.items()
        )
        if active:
            pins = ", ".join(f"{a} (GPIO{_pin_of(config, a)})" for a in active)
            return Outcome.fail(
                f"active at rest: {pins}",
                "close the door, clear the slot, turn the key off; if it stays active, check "
                "that input's wire and connector (docs/hardware.md, dropbox wiring)",
            )
        return Outcome.ok(f"{len(levels)} inputs read: {read}")

    def printer_slip(ctx: CheckContext) -> Outcome:
        if not config.printer.enabled:
            return Outcome.skip("no slip printer in the config (printer.enabled = false)")
        from receipts import Cut, Line, PrinterError

        printer_config = config.printer
        if simulate:
            # The real adapter, writing to a file instead of the printer's device node.
            scratch = state.setdefault("scratch", tempfile.TemporaryDirectory(prefix="lapak-"))
            sink = Path(scratch.name) / ("missing/lp0" if "printer" in inject else "lp0")
            printer_config = printer_config.model_copy(
                update={"transport": "file", "target": str(sink)}
            )
        slip = receipt.EscposPrinter(printer_config)
        try:
            slip.print_slip(
                [
                    Line("TES PRINTER", "center", "tall", bold=True),
                    Line("Printer test"),
                    Line(f"{ctx.device_id} {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"),
                    Cut(),
                ]
            )
        except PrinterError as exc:
            return Outcome.fail(f"test slip not printed: {exc}", "check paper, power and cable")
        finally:
            slip.close()
        return Outcome.ok("test slip printed")

    def fill_distance(_ctx: CheckContext) -> Outcome:
        if not config.fill.enabled:
            return Outcome.skip("no fill sensor in the config (fill.enabled = false)")
        if simulate:
            return Outcome.skip("the simulated box has no fill sensor to ping")
        sensor = gpio.GpioFillSensor(config.pins.fill_trigger, config.pins.fill_echo)
        try:
            distance = sensor.read_distance_cm()
        finally:
            sensor.close()
        if distance is None:
            return Outcome.fail(
                "no echo from the fill sensor",
                "check the HC-SR04 wiring and its 5 V to 3.3 V divider on the echo line",
            )
        if distance > config.fill.empty_distance_cm * 1.2:
            return Outcome.fail(
                f"{distance:.0f} cm: farther than the empty box's "
                f"{config.fill.empty_distance_cm:g} cm",
                "mount the sensor in the lid looking straight down, or set fill.empty_distance_cm",
            )
        return Outcome.ok(f"{distance:.0f} cm to the paper")

    def printer_usable() -> tuple[bool, str]:
        if simulate and "printer" in inject:
            return False, "simulated printer told to fail"
        return receipt.is_usable(None if simulate else config.printer)

    adapters: dict[str, Callable[[], tuple[bool, str]]] = {"gpio": gpio_usable}
    if config.printer.enabled:
        adapters["printer"] = printer_usable
    probes = [
        FunctionCheck("gpio", "GPIO inputs read at rest", gpio_inputs),
        FunctionCheck("slip", "slip printer test", printer_slip),
        FunctionCheck("fill", "fill sensor distance", fill_distance),
    ]

    def close() -> None:
        box = state.pop("box", None)
        if box is not None:
            box.close()
        if factory is not None:
            factory.close()
        scratch = state.pop("scratch", None)
        if scratch is not None:
            scratch.cleanup()

    return Hardware(
        adapters={name: Usability(answer) for name, answer in adapters.items()},
        probes=list(probes),
        close=close,
    )


def _rest_levels(factory: Any, config: Any, *, broken: bool) -> None:
    """Drive the simulated inputs to the box's rest state (beam clear, door and loop closed).

    With `broken`, the beam input stays at its pulled-up level, as with a cut wire.
    """
    polarity = config.polarity
    active = {
        "beam": polarity.beam_blocked_level,
        "door": polarity.door_open_level,
        "tamper": polarity.tamper_active_level,
        "key_switch": polarity.key_on_level,
    }
    for name, active_level in active.items():
        pin = getattr(config.pins, name)
        if pin is None or (broken and name == "beam"):
            continue
        mock = factory.pin(pin)  # MockFactory hands back the pin the box already holds
        if active_level == "high":
            mock.drive_low()
        else:
            mock.drive_high()


def _pin_of(config: Any, input_name: str) -> int | None:
    return getattr(config.pins, "key_switch" if input_name == "key" else input_name, None)
