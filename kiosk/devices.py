"""The kiosk's devices as its config wires them, real or simulated, and whether each works here.

The one place a camera, thermometer or printer is made from the config: `kiosk.app` builds the
running kiosk from it and `provision check` tests the very same devices (it only adds probes).
Hardware libraries are imported inside the adapters, when a device first opens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk.config import KioskConfig
from kiosk.ports import FrameSource, Thermometer, TicketPrinter
from kiosk.sim.camera import FolderCamera, ScriptedCamera
from kiosk.sim.printer import ticket_or_slip
from kiosk.sim.thermometer import SimulatedThermometer
from receipts.sim import SimulatedPrinter
from receipts.wiring import build_printer as build_receipt_printer
from receipts.wiring import build_simulated_printer as build_simulated_receipt_printer
from receipts.wiring import printer_usable

Usable = Callable[[], tuple[bool, str]]
"""A device's answer to "can you work here?": (usable, why), asked without opening it."""


def build_camera(config: KioskConfig) -> FrameSource:
    """The configured camera (hardware libraries are imported when it opens)."""
    cam = config.camera
    if cam.source == "picamera2":
        from kiosk.adapters.picamera import picamera2_source

        return picamera2_source(
            cam.camera_num,
            width=cam.width_px,
            height=cam.height_px,
            frame_timeout_s=cam.frame_timeout_s,
            max_age_s=cam.max_frame_age_s,
        )
    if cam.source == "usb":
        from kiosk.adapters.usbcam import usb_source

        return usb_source(
            cam.device,
            width=cam.width_px,
            height=cam.height_px,
            frame_timeout_s=cam.frame_timeout_s,
            max_age_s=cam.max_frame_age_s,
        )
    assert cam.folder is not None  # noqa: S101 - the config validator guarantees it
    return FolderCamera(cam.folder, auto=True)


def build_thermometer(config: KioskConfig) -> Thermometer:
    """The configured thermometer; a missing I2C bus is a reading fault, not a failed start."""
    th = config.thermometer
    if th.source == "simulated":
        return SimulatedThermometer()
    from kiosk.adapters.mlx90614 import LazyBus, Mlx90614

    return Mlx90614(LazyBus(th.i2c_bus), th.address)


def build_printer(config: KioskConfig) -> TicketPrinter:
    """The ticket printer the config names (simulated: `build_simulated_printer`'s)."""
    return build_receipt_printer(config.printer, kind=ticket_or_slip)


def build_simulated_printer(
    config: KioskConfig,
    *,
    out_dir: Path | None = None,
    paper_left: int | None = None,
    render: bool = True,
) -> SimulatedPrinter:
    """The simulated twin of the config's ticket printer, made where the app makes a simulated
    one (`receipts.wiring`): its columns and paper width, ``ticket-NNNN.png`` and
    ``slip-NNNN.png`` into `out_dir` (in memory without it), `paper_left` tickets' paper on its
    roll (None: endless); `render` False keeps the bytes only."""
    printer = config.printer.model_copy(update={"out_dir": out_dir})
    return build_simulated_receipt_printer(
        printer, kind=ticket_or_slip, paper_left=paper_left, render=render
    )


def camera_usable(config: KioskConfig) -> tuple[bool, str]:
    """Whether the configured camera's library and device are here."""
    cam = config.camera
    if cam.source == "picamera2":
        from kiosk.adapters import picamera

        return picamera.is_usable()
    if cam.source == "usb":
        from kiosk.adapters import usbcam

        return usbcam.is_usable(cam.device)
    assert cam.folder is not None  # noqa: S101 - the config validator guarantees it
    return cam.folder.is_dir(), f"folder {cam.folder}"


def thermometer_usable(config: KioskConfig) -> tuple[bool, str]:
    """Whether the configured thermometer's bus and library are here."""
    th = config.thermometer
    if th.source == "simulated":
        return True, "simulated thermometer"
    from kiosk.adapters import mlx90614

    return mlx90614.is_usable(th.i2c_bus)


def ticket_printer_usable(config: KioskConfig) -> tuple[bool, str]:
    """Whether the configured printer's transport can be used here."""
    return printer_usable(config.printer)


def usability(config: KioskConfig) -> dict[str, Usable]:
    """Each device's "can you work here?", asked when wanted (`provision check`)."""
    return {
        "camera": lambda: camera_usable(config),
        "thermometer": lambda: thermometer_usable(config),
        "printer": lambda: ticket_printer_usable(config),
    }


@dataclass
class SimulatedDevices:
    """The kiosk's simulated twins: they run the real code paths and can be told to fail."""

    camera: ScriptedCamera
    thermometer: SimulatedThermometer
    printer: SimulatedPrinter


def build_simulated_devices(
    config: KioskConfig,
    *,
    camera: ScriptedCamera | None = None,
    out_dir: Path | None = None,
    paper_left: int | None = None,
) -> SimulatedDevices:
    """The kiosk's devices simulated with the config's settings: `camera` (a scene shown by the
    caller; an empty one by default), a thermometer, and a printer writing ``ticket-NNNN.png``
    and ``slip-NNNN.png`` into `out_dir` (kept in memory without it) with `paper_left` tickets'
    paper on its roll (None: endless)."""
    return SimulatedDevices(
        camera=camera if camera is not None else ScriptedCamera("simulated camera"),
        thermometer=SimulatedThermometer(),
        printer=build_simulated_printer(config, out_dir=out_dir, paper_left=paper_left),
    )
