"""The functional probes `provision check` runs on a device's hardware, real or simulated.

The devices themselves come from each app's own wiring (`kiosk.devices`, `dropbox_agent.devices`),
so the check tests the very devices the app runs, with the same settings; this module only adds
the probes (a frame, the test card, a reading, a test ticket or slip, pin levels) and, when
simulating, sets the scene and injects the faults asked for. Each app is imported lazily, per
role, so `provision` runs on a machine that has only one app's hardware libraries.
"""

from __future__ import annotations

import logging
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
    from kiosk import devices

    camera: Any
    if simulate:
        camera, thermometer, printer, usable = _kiosk_simulated(config, inject)
    else:
        camera = devices.build_camera(config)
        thermometer = devices.build_thermometer(config)
        printer = devices.build_printer(config)
        usable = dict(devices.usability(config))
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
    return Hardware(
        adapters=dict(adapters),
        probes=list(probes),
        close=close,
        devices={"camera": camera, "thermometer": thermometer, "printer": printer},
    )


UsableMap = dict[str, Callable[[], tuple[bool, str]]]


def _kiosk_simulated(config: Any, inject: frozenset[str]) -> tuple[Any, Any, Any, UsableMap]:
    """The kiosk's own simulated devices, shown the test card, told to fail as `inject` says."""
    from kiosk.devices import build_simulated_devices
    from kiosk.ports import PaperStatus
    from kiosk.sim.frames import blank_frame

    sim = build_simulated_devices(config)
    # A broken QR read is a card the camera cannot see: an empty scene.
    sim.camera.show(blank_frame() if "qr" in inject else test_card_frame())
    if "camera" in inject:
        sim.camera.fail(True)
    sim.thermometer.set_object(29.5)  # nobody in front of the sensor: the lobby's wall
    if "thermometer" in inject:
        sim.thermometer.fail("missing")
    if "printer" in inject:
        sim.printer.set_status(PaperStatus.OFFLINE)

    def answer(name: str) -> Callable[[], tuple[bool, str]]:
        def usable() -> tuple[bool, str]:
            if name in inject:
                return False, f"simulated {name} told to fail"
            return True, f"simulated {name}"

        return usable

    usable = {n: answer(n) for n in ("camera", "thermometer", "printer")}
    return sim.camera, sim.thermometer, sim.printer, usable


# -- dropbox -------------------------------------------------------------------------------------


def _dropbox(config: Any, *, simulate: bool, inject: frozenset[str]) -> Hardware:
    from dropbox_agent import devices
    from dropbox_agent.domain.model import Input
    from dropbox_agent.errors import HardwareUnavailable
    from uplink import SystemClock

    # The devices the probes test, opened by the app's wiring; real pins only when asked for
    # (opening them off a Pi is a failed check, not a crash).
    built: dict[str, Any] = {}
    usable = dict(devices.usability(config))
    if simulate:
        sim = devices.build_simulated_devices(config, SystemClock())
        built.update(box=sim.box, fill=sim.fill, printer=sim.printer)
        if "gpio" in inject:
            sim.box.stick(Input.BEAM, True)  # the beam input reads as a cut wire
        if sim.printer is not None and "printer" in inject:
            sim.printer.fail("offline")

        def gpio_usable() -> tuple[bool, str]:
            if "gpio" in inject:
                return True, "simulated pins (one input told to read as a cut wire)"
            return True, "simulated pins (gpiozero MockFactory)"

        def printer_usable() -> tuple[bool, str]:
            if "printer" in inject:
                return False, "simulated printer told to fail"
            return True, "simulated printer"

        usable["gpio"] = gpio_usable
        if "printer" in usable:
            usable["printer"] = printer_usable
    elif config.printer.enabled:
        built["printer"] = devices.build_printer(config)  # opened at its first slip

    def device(name: str) -> Any:
        if name not in built:
            if name == "box":
                built["box"] = devices.build_box(config, SystemClock())
            else:
                built["fill"] = devices.build_fill_sensor(config)
        return built[name]

    def gpio_inputs(_ctx: CheckContext) -> Outcome:
        ok, why = usable["gpio"]()
        if not ok:
            return Outcome.fail(f"not tried: {why}", "fix the GPIO first")
        try:
            levels = device("box").levels()
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

        ok, why = usable["printer"]()
        if not ok:
            return Outcome.fail(f"not tried: {why}", "fix the printer first")
        try:
            built["printer"].print_slip(
                [
                    Line("TES PRINTER", "center", "tall", bold=True),
                    Line("Printer test"),
                    Line(f"{ctx.device_id} {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"),
                    Cut(),
                ]
            )
        except PrinterError as exc:
            return Outcome.fail(f"test slip not printed: {exc}", "check paper, power and cable")
        return Outcome.ok("test slip printed")

    def fill_distance(_ctx: CheckContext) -> Outcome:
        if not config.fill.enabled:
            return Outcome.skip("no fill sensor in the config (fill.enabled = false)")
        try:
            distance = device("fill").read_distance_cm()
        except HardwareUnavailable as exc:
            return Outcome.fail(f"cannot open the pins: {exc}", "see docs/hardware.md (dropbox)")
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

    probes = [
        FunctionCheck("gpio", "GPIO inputs read at rest", gpio_inputs),
        FunctionCheck("slip", "slip printer test", printer_slip),
        FunctionCheck("fill", "fill sensor distance", fill_distance),
    ]

    def close() -> None:
        for name in ("printer", "fill", "box"):
            part = built.get(name)
            if part is not None:
                part.close()
        factory = getattr(built.get("box"), "factory", None)  # the simulated box's MockFactory
        if factory is not None:
            factory.close()

    return Hardware(
        adapters={name: Usability(answer) for name, answer in usable.items()},
        probes=list(probes),
        close=close,
        devices=built,
    )


def _pin_of(config: Any, input_name: str) -> int | None:
    return getattr(config.pins, "key_switch" if input_name == "key" else input_name, None)
