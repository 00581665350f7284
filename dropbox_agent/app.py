"""Wiring: the agent built from its config, on the devices `dropbox_agent.devices` makes.

The agent's loop is `dropbox_agent.agent`; the simulated boxes that drive one are in
`dropbox_agent.sim.runner`.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import uuid
from pathlib import Path

from dropbox_agent import devices
from dropbox_agent.agent import DropboxAgent
from dropbox_agent.config import DropboxConfig
from dropbox_agent.errors import SetupError
from dropbox_agent.ports import BoxIO, BoxStore, FillSensor, LineSource, ReceiptPrinter
from uplink import Clock, EventSink, StorageError, SystemClock, Uplink, UplinkError

logger = logging.getLogger(__name__)


def boot_id() -> str:
    """This boot's id (raw-log rows compare monotonic times only within one boot)."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return uuid.uuid4().hex


def build(
    config: DropboxConfig,
    *,
    clock: Clock | None = None,
    box: BoxIO | None = None,
    uplink: Uplink | None = None,
    events: EventSink | None = None,
    store: BoxStore | None = None,
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
        SetupError: the uplink (certificates, outbox) or the box store cannot be opened.
    """
    clock = clock or SystemClock()
    made: Uplink | None = None
    if events is None and uplink is None:
        uplink = made = _open_uplink(config, uplink_clock or SystemClock())
    try:
        if box is None:
            box = devices.build_box(config, clock)
        if fill is None:
            fill = devices.build_fill_sensor(config)
        if printer is None:
            printer = devices.build_printer(config)
        if keypad is None:
            keypad = devices.build_keypad(config)
        if store is None:
            store = _open_box_store(config)
    except BaseException:
        if made is not None:
            made.stop()  # closes its outbox: a start that failed leaves no file open
        raise
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


def _open_uplink(config: DropboxConfig, clock: Clock) -> Uplink:
    """The agent's own uplink (not started).

    Raises:
        SetupError: its outbox or its TLS files cannot be opened (one line naming which).
    """
    try:
        return Uplink(config.uplink, clock=clock)
    except StorageError as exc:  # the outbox: its own line says what and where
        raise SetupError(f"cannot open the outbox (uplink.outbox_path): {exc}") from exc
    except (OSError, sqlite3.Error) as exc:
        # ssl's errors do not say which file: name it as `config check` does.
        tls = [p for p in config.uplink.broker.file_problems() if p[3] == "error"]
        if tls and not isinstance(exc, UplinkError):
            key, value, problem, _ = tls[0]
            raise SetupError(
                f"cannot set up the uplink: uplink.broker.{key} = {value}: {problem}"
            ) from exc
        raise SetupError(
            f"cannot set up the uplink ({exc}); check [uplink] outbox_path and the "
            "[uplink.broker] ca_file, cert_file and key_file (`provision` writes them)"
        ) from exc


def _open_box_store(config: DropboxConfig) -> BoxStore:
    """The box store at `local_db_path`.

    Raises:
        SetupError: it cannot be opened (one line naming the file).
    """
    from dropbox_agent.adapters.box_store import SqliteBoxStore

    try:
        return SqliteBoxStore(
            config.local_db_path, boot_id=boot_id(), max_rows=config.raw_log_max_rows
        )
    except (OSError, sqlite3.Error) as exc:
        raise SetupError(
            f"cannot open the box store {config.local_db_path} ({exc}); check "
            "local_db_path and that the data partition is mounted and writable"
        ) from exc


def run(config: DropboxConfig, stop: threading.Event) -> None:
    """`dropbox-agent run`: the appliance on real pins, until `stop` is set."""
    build(config).run(stop)
