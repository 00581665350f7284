"""Wiring: the only module that picks real or simulated devices and builds the agent from them.

The agent's loop is `dropbox_agent.agent`; the simulated boxes that drive one are in
`dropbox_agent.sim.runner`.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dropbox_agent.agent import DropboxAgent
from dropbox_agent.config import DropboxConfig
from dropbox_agent.errors import SetupError
from dropbox_agent.ports import BoxIO, EventSink, FillSensor, LineSource, LocalStore, ReceiptPrinter
from uplink import Clock, SystemClock, Uplink

if TYPE_CHECKING:  # the simulators (and the renderer behind their slips) load only when used
    from dropbox_agent.sim.box import SimulatedBox
    from dropbox_agent.sim.devices import SimulatedFillSensor, SimulatedKeypad, SimulatedPrinter

logger = logging.getLogger(__name__)


def boot_id() -> str:
    """This boot's id (raw-log rows compare monotonic times only within one boot)."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return uuid.uuid4().hex


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


def build(
    config: DropboxConfig,
    *,
    clock: Clock | None = None,
    box: BoxIO | None = None,
    uplink: Uplink | None = None,
    events: EventSink | None = None,
    store: LocalStore | None = None,
    fill: FillSensor | None = None,
    printer: ReceiptPrinter | None = None,
    keypad: LineSource | None = None,
    uplink_clock: Clock | None = None,
) -> DropboxAgent:
    """Wire an agent from its config; any device may be passed in instead (simulation, tests).

    Real devices are opened only for what the config enables and nothing was passed for.
    `events` replaces the uplink entirely (unit tests); otherwise an `Uplink` is made from
    `config.uplink` (on `uplink_clock`, the real clock by default) and owned by the agent.

    Raises:
        HardwareUnavailable: a real device was needed and cannot be opened here.
        SetupError: the uplink (certificates, outbox) or the local database cannot be opened.
    """
    clock = clock or SystemClock()
    if events is None and uplink is None:
        try:
            uplink = Uplink(config.uplink, clock=uplink_clock or SystemClock())
        except (OSError, sqlite3.Error) as exc:
            raise SetupError(
                f"cannot set up the uplink ({exc}); check [uplink] outbox_path and the "
                "[uplink.broker] ca_file, cert_file and key_file (`provision` writes them)"
            ) from exc
    if box is None:
        from dropbox_agent.adapters.gpio import GpioBox

        box = GpioBox(config.pins, config.polarity, clock)
    if fill is None and config.fill.enabled:
        from dropbox_agent.adapters.gpio import GpioFillSensor

        trigger, echo = config.pins.fill_trigger, config.pins.fill_echo
        if trigger is not None and echo is not None:  # the config validator ensures both
            fill = GpioFillSensor(trigger, echo)
    if printer is None and config.printer.enabled:
        from dropbox_agent.adapters.receipt import EscposPrinter

        printer = EscposPrinter(config.printer)
    if keypad is None and config.collection.input_path is not None:
        from dropbox_agent.adapters.lines import DeviceLineSource

        keypad = DeviceLineSource(config.collection.input_path)
    if store is None:
        from dropbox_agent.adapters.store import SqliteLocalStore

        try:
            store = SqliteLocalStore(
                config.local_db_path, boot_id=boot_id(), max_rows=config.raw_log_max_rows
            )
        except (OSError, sqlite3.Error) as exc:
            raise SetupError(
                f"cannot open the box's database {config.local_db_path} ({exc}); check "
                "local_db_path and that the data partition is mounted and writable"
            ) from exc
    return DropboxAgent(
        config,
        box=box,
        events=events if events is not None else uplink,  # type: ignore[arg-type]
        store=store,
        clock=clock,
        fill=fill,
        printer=printer,
        keypad=keypad,
        uplink=uplink if events is None else None,
    )


def run(config: DropboxConfig, stop: threading.Event) -> None:
    """`dropbox-agent run`: the appliance on real pins, until `stop` is set."""
    build(config).run(stop)
