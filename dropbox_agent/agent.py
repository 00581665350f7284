"""The box's runtime: one loop feeds GPIO edges, keypad lines and sensor readings to the
pure `BoxMachine` and carries out its effects (events committed before any feedback).

The wiring that builds a `DropboxAgent` from a config is `dropbox_agent.app.build`; the
simulated boxes that drive one are in `dropbox_agent.sim.runner`.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dropbox_agent.config import DropboxConfig
from dropbox_agent.domain import events as vocabulary
from dropbox_agent.domain.auth import find_officer, parse_line
from dropbox_agent.domain.codes import random_code
from dropbox_agent.domain.ledger import reconcile_ledger
from dropbox_agent.domain.machine import BoxMachine
from dropbox_agent.domain.model import (
    Authorization,
    BookingScanned,
    CountEntered,
    Edge,
    Effect,
    FaultReport,
    FillReading,
    Input,
    Ledger,
    MachineInput,
    Notice,
    Output,
    PrintReceipt,
    Pulse,
    Record,
    SaveLedger,
    SetOutput,
)
from dropbox_agent.domain.text import slip_lines
from dropbox_agent.errors import PrinterError
from dropbox_agent.ports import BoxIO, FillSensor, LineSource, LocalStore, ReceiptPrinter
from receipts.status import can_print
from uplink import (
    Clock,
    Envelope,
    EventSink,
    StorageError,
    Uplink,
    catalog,
    inbound,
    systemd,
    topics,
)
from uplink.clock import real_s
from uplink.outbox import Outbox
from uplink.startup import StartupReport, Wait

logger = logging.getLogger(__name__)

STATE_INTERVAL_S = 0.5  # real seconds between retained state messages, at most
BATCH = 256  # inputs handled per loop pass before the raw log is written
_STOP = object()
_WAKE = object()
COUNT_COMMAND = "collection-count"  # lapak/v1/dev/{device}/cmd/collection-count
_SAFE_BOOKING = re.compile(r"^[A-Za-z0-9-]{4,64}$")  # what the deposit schema accepts
HOLD_RETRY_S = 5.0  # clock seconds between attempts to store events held while storage is full
ERROR_TONE_S = 1.5  # the buzzer's long tone instead of the beep when a deposit is not stored
STORAGE_FAULT = ("storage", "full")
STORAGE_ALERT = "PENYIMPANAN PENUH / storage full"

RecordListener = Callable[[Record, Envelope], None]


class DropboxAgent:
    """The box's event loop: GPIO edges, keypad lines and sensor readings in, effects out.

    Inputs arrive on one queue from the adapters' threads; a single thread (`run`, or a test
    calling `pump`) feeds them to the pure `BoxMachine` and carries out its effects in order:
    events are committed to the outbox before any feedback, then the ledger is saved. The loop
    sleeps until the next input or the machine's next deadline; it never polls.

    Args:
        config: the whole agent config.
        box: the GPIO inputs and outputs.
        events: where events go (the `Uplink`).
        store: the box's ledger and raw log.
        clock: dates inputs and drives timeouts (a `ManualClock` in tests, the simulation's
            `SimulatedClock`, which says how long its seconds take in real time).
        fill, printer, keypad: optional devices (None when not fitted).
        uplink: the uplink to start, reconcile with and stop (None when `events` is a fake).
    """

    def __init__(
        self,
        config: DropboxConfig,
        *,
        box: BoxIO,
        events: EventSink,
        store: LocalStore,
        clock: Clock,
        fill: FillSensor | None = None,
        printer: ReceiptPrinter | None = None,
        keypad: LineSource | None = None,
        uplink: Uplink | None = None,
    ) -> None:
        self.config = config
        self.box, self.events, self.store, self.clock = box, events, store, clock
        self.fill, self.printer, self.keypad, self.uplink = fill, printer, keypad, uplink
        self._machine: BoxMachine | None = None
        self._startup = self.startup_report()
        self._count_handler = inbound.InboundGuard(self._report_bad_inbound).handler(
            COUNT_COMMAND, inbound.parse_collection_count, self._on_count
        )
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._officers = config.collection.officer_list()
        self._booking_re = re.compile(config.collection.booking_ref_pattern)
        self._zone = ZoneInfo(config.timezone)
        self._record_listeners: list[RecordListener] = []
        self._storage_full = False
        # Events the outbox could not take (disk or cap full), oldest first, with their wall
        # time: stored in order, before anything newer, once there is room again.
        self._held: list[tuple[Record, datetime]] = []
        self._retry_at: float | None = None  # clock time of the next attempt to store them
        self._unsaved_ledger: Ledger | None = None
        self._local_store_failing = False
        self._printer_fault: str | None = None
        self._print_jobs: queue.SimpleQueue[PrintReceipt | None] = queue.SimpleQueue()
        self._fill_wake = threading.Event()
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._published: dict[str, Any] | None = None
        self._passes = threading.Condition()
        self._queued = 0  # inputs put on the queue (under _passes), and handled (loop thread)
        self._handled = 0
        self._idle = False  # set at the end of a pass that left nothing queued or settling
        self.latest_state: dict[str, Any] = {}  # set by the loop thread on every pass
        self._last_publish = -float("inf")
        self._state_due: float | None = None
        watchdog_usec = int(os.environ.get("WATCHDOG_USEC", "0") or 0)
        self._watchdog_s = watchdog_usec / 3e6 if watchdog_usec > 0 else None

    # -- life cycle ----------------------------------------------------------------------------

    @property
    def machine(self) -> BoxMachine:
        """The state machine (after `start`)."""
        if self._machine is None:
            raise RuntimeError("DropboxAgent.start() has not been called")
        return self._machine

    def start(self) -> None:
        """Restore the ledger, arm the inputs, start the devices' threads and the uplink."""
        self._startup.begin()  # what the box waits for, before anything can fail or retry
        ledger = self.store.load_ledger() or Ledger()
        held = self._load_held()
        if self.uplink is not None:
            # Events held on a full disk were counted too: the next deposit must not reuse
            # the number of one that is held (the ledger could not be saved either).
            counted = [*pending_events(self.uplink.outbox), *((t, p) for t, p, _ in held)]
            reconciled = reconcile_ledger(ledger, counted)
            if reconciled != ledger:
                logger.warning(
                    "ledger was behind the outbox (process stopped mid-deposit); now at deposit "
                    "%d, %d pending collection",
                    reconciled.last_deposit_no,
                    reconciled.pending_count,
                )
                self._save_ledger(reconciled)  # a full disk: kept, and saved when room returns
                ledger = reconciled
            self.uplink.subscribe(
                topics.command(self.config.uplink.device_id, COUNT_COMMAND), self._on_count_command
            )
            self.uplink.start()
        for type_name, payload, wall in held:
            self._held.append((Record(type_name, payload, self.clock.monotonic()), wall))
        if self._held:
            self._storage_full = True
            self._retry_at = self.clock.monotonic()  # try at the first pass
            logger.warning(
                "%d events counted before the last stop are not stored yet", len(self._held)
            )
        # Listen before reading the levels: an edge in between is queued, not lost.
        self.box.listen(self._on_edge)
        self._machine = BoxMachine(
            self.config.machine_settings(),
            ledger=ledger,
            initial=self.box.levels(),
            t0=self.clock.monotonic(),
            code_source=random_code,
        )
        if self.keypad is not None:
            self.keypad.start(self._on_line)
        if self.printer is not None:
            self._spawn("dropbox-printer", self._print_loop)
        if self.fill is not None and self.config.fill.enabled:
            self._spawn("dropbox-fill", self._fill_loop)
        self._apply(self._machine.start())
        if self._held:  # the machine starts without the fault: tell it, so it clears later
            self._fault(*STORAGE_FAULT, True)
        if getattr(self.store, "moved_aside", None) is not None:  # loud, and it keeps counting
            self._fault("ledger", "replaced_unusable", True)
        self._publish_state(force=True)
        logger.info(
            "dropbox %s armed: %d deposits pending collection",
            self.config.box_id,
            ledger.pending_count,
        )

    def run(self, stop: threading.Event) -> None:
        """Start (if needed) and run the loop until `stop` is set; then close."""
        if self._machine is None:
            self.start()
        when_set(stop, lambda: self._queue.put(_STOP))
        self._startup.watch(stop)
        systemd.notify_ready()
        try:
            while not stop.is_set():
                try:
                    running = self.pump(self.wait_s())
                except Exception:  # loop boundary: log, keep counting deposits
                    logger.exception("dropbox loop pass failed")
                    running = not stop.wait(0.1)
                if self.uplink is None or self.uplink.alive():
                    systemd.notify_watchdog()  # not fed once the uplink really stopped
                if not running:
                    break
        finally:
            self.close()

    def startup_report(self) -> StartupReport:
        """The start-up lines: what the box waits for (the broker, a printer that can print)."""
        waits: list[Wait] = []
        if self.uplink is not None:
            broker, uplink = self.config.uplink.broker, self.uplink
            waits.append(
                Wait(
                    f"the broker at {broker.host}:{broker.port}",
                    lambda: uplink.connected,
                    needed_to_serve=False,  # deposits are kept in the outbox until it answers
                )
            )
        if self.printer is not None:
            printer = self.printer
            label = self.config.printer.label()
            waits.append(Wait(f"the printer ({label})", lambda: can_print(printer)))
        return StartupReport(f"dropbox {self.config.box_id}", waits, self.clock)

    def close(self, drain_s: float = 0.0) -> None:
        """Publish the final state, stop the threads and devices (and the uplink it owns).

        Args:
            drain_s: wait up to this long for the outbox to empty first (simulations).
        """
        if self._closing.is_set():
            return
        if self._machine is not None:
            self._publish_state(force=True)
        self._closing.set()
        self._fill_wake.set()
        self._print_jobs.put(None)
        for thread in self._threads:
            thread.join(5.0)
        if self._held:
            logger.error(
                "stopping with %d events not stored (storage full); the ledger keeps the count",
                len(self._held),
            )
        # Each part closes on its own: one failing (a full disk) must not keep the rest open
        # or end the service with a traceback.
        for device in (self.keypad, self.fill, self.printer, self.box):
            if device is not None:
                _close_quietly(type(device).__name__, device.close)
        if self.uplink is not None:
            uplink = self.uplink
            if drain_s > 0 and not uplink.wait_drained(drain_s):
                logger.info("events still in the outbox; sent on next start")
            _close_quietly("uplink", uplink.stop)
        _close_quietly("local store", self.store.close)

    # -- the loop ------------------------------------------------------------------------------

    def submit(self, item: MachineInput) -> None:
        """Hand one input to the loop (any thread)."""
        with self._passes:
            self._queued += 1
            self._idle = False
        self._queue.put(item)

    def wake(self) -> None:
        """Make the loop re-check its deadlines now (after a `ManualClock` moved, for instance)."""
        self._queue.put(_WAKE)

    def pump(self, timeout_s: float | None = 0.0) -> bool:
        """Handle the queued inputs and the deadlines due, waiting up to `timeout_s` for input.

        Returns:
            False once `run`'s stop was seen, else True.
        """
        machine = self.machine
        items: list[object] = []
        try:
            if timeout_s is not None and timeout_s <= 0:
                items.append(self._queue.get_nowait())
            else:
                items.append(self._queue.get(timeout=timeout_s))
            while len(items) < BATCH:
                items.append(self._queue.get_nowait())
        except queue.Empty:
            pass
        running = True
        raw: list[tuple[MachineInput, datetime]] = []
        for item in items:
            if item is _STOP:
                running = False
            elif item is not _WAKE:
                inp: MachineInput = item  # type: ignore[assignment]
                raw.append((inp, self._wall(inp.t)))
                try:
                    self._apply(machine.feed(inp))
                except Exception:  # per-input boundary: the rest of the batch still counts
                    logger.exception("handling %s failed", type(inp).__name__)
                self._handled += 1
        self._apply(machine.advance(self.clock.monotonic()))
        if self._retry_at is not None and self.clock.monotonic() >= self._retry_at:
            self._retry_storage()
        self._append_raw(raw)
        self._publish_state()
        with self._passes:
            self._idle = self._handled == self._queued and not machine.settling
            self._passes.notify_all()
        return running

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until every queued input is handled and no input is still settling (another
        thread runs the loop); for simulators and tests. Returns False on timeout."""
        with self._passes:
            return self._passes.wait_for(lambda: self._idle, timeout_s)

    def wait_s(self) -> float | None:
        """Real seconds until the loop has something to do without input (None: nothing)."""
        waits: list[float] = []
        deadline = self.machine.next_deadline()
        if deadline is not None:
            waits.append(real_s(self.clock, deadline - self.clock.monotonic()))
        if self._state_due is not None:
            waits.append(self._state_due - time.monotonic())
        if self._retry_at is not None:
            waits.append(real_s(self.clock, self._retry_at - self.clock.monotonic()))
        if self._watchdog_s is not None:
            waits.append(self._watchdog_s)
        return max(0.0, min(waits)) if waits else None

    def state(self) -> dict[str, Any]:
        """The retained state message (see `BoxMachine.state`), with the agent's own alerts."""
        state = self.machine.state()
        if self._storage_full:
            held = sum(1 for record, _ in self._held if record.type == vocabulary.DEPOSIT)
            state["alerts"] = [
                STORAGE_ALERT,
                f"{held} setoran menunggu disimpan / {held} deposits held until storage returns",
                *state["alerts"],
            ]
        return state

    @property
    def held_events(self) -> int:
        """Events counted but not yet stored (storage full); stored once there is room."""
        return len(self._held)

    def add_record_listener(self, listener: RecordListener) -> None:
        """Call `listener(record, envelope)` after each event is committed (loop thread)."""
        self._record_listeners.append(listener)

    def request_fill_reading(self) -> None:
        """Read the fill sensor now instead of at the next interval."""
        self._fill_wake.set()

    # -- effects -------------------------------------------------------------------------------

    def _apply(self, effects: Iterable[Effect]) -> None:
        # No feedback without a stored event: once a record of this step is held (storage
        # full), its beep becomes the error tone and its slip is not printed.
        stored = True
        for effect in effects:
            if isinstance(effect, Record):
                stored = self._record(effect) and stored
            elif isinstance(effect, SaveLedger):
                self._save_ledger(effect.ledger)
            elif isinstance(effect, SetOutput):
                self.box.set_output(effect.output, effect.mode)
            elif isinstance(effect, Pulse):
                if stored:
                    self.box.pulse(effect.output, real_s(self.clock, effect.seconds))
                elif effect.output is Output.BUZZER:
                    self.box.pulse(Output.BUZZER, real_s(self.clock, ERROR_TONE_S))
            elif isinstance(effect, PrintReceipt):
                if not stored:
                    logger.warning(
                        "no slip for deposit %d: its event is not stored (storage full)",
                        effect.deposit_no,
                    )
                elif self.printer is not None:
                    self._print_jobs.put(effect)
            elif isinstance(effect, Notice):
                logger.info("%s", effect.text)

    def _record(self, record: Record) -> bool:
        """Commit one event; False when it is held instead (storage full)."""
        wall = self._wall(record.t)
        telemetry = catalog().get(record.type).delivery == "telemetry"
        if self._held and not self._store_held():
            if not telemetry:  # telemetry waits for nobody: the next one says the same
                self._hold(record, wall, None)
                return False
            return True
        try:
            envelope = self.events.record(record.type, record.payload, occurred_at=wall)
        except StorageError as exc:
            if telemetry:
                logger.warning("%s not stored: %s", record.type, exc)
                return True
            self._hold(record, wall, exc)
            return False
        self._committed(record, envelope)
        return True

    def _committed(self, record: Record, envelope: Envelope) -> None:
        for listener in self._record_listeners:
            listener(record, envelope)

    def _hold(self, record: Record, wall: datetime, exc: StorageError | None) -> None:
        self._held.append((record, wall))
        self._save_held()
        if self._retry_at is None:
            self._retry_at = self.clock.monotonic() + HOLD_RETRY_S
        if not self._storage_full:
            self._storage_full = True
            logger.error(
                "cannot store %s (%s): the box keeps counting and stores the held events once "
                "there is room; free space on the data partition or restore the uplink so the "
                "back office can acknowledge the backlog",
                record.type,
                exc or "storage full",
            )
            self._fault(*STORAGE_FAULT, True)  # recorded (held) in order, stored with the rest

    def _store_held(self) -> bool:
        """Store the held events in order; True when none is left."""
        stored = 0
        while self._held:
            record, wall = self._held[0]
            try:
                envelope = self.events.record(record.type, record.payload, occurred_at=wall)
            except StorageError:
                self._retry_at = self.clock.monotonic() + HOLD_RETRY_S
                return False
            self._held.pop(0)
            stored += 1
            self._save_held()  # cleared at once: a stop now does not store it a second time
            self._committed(record, envelope)
        self._retry_at = None
        if self._storage_full:
            self._storage_full = False
            logger.warning("storage has room again: %d held events stored", stored)
            self._fault(*STORAGE_FAULT, False)
        return True

    def _save_held(self) -> None:
        """Keep the held events in the box's own file too, so a restart does not lose them
        (best effort: when the same disk is full, the ledger still has the count)."""
        try:
            self.store.save_held([(r.type, dict(r.payload), wall) for r, wall in self._held])
        except (sqlite3.Error, OSError) as exc:
            logger.warning("held events kept in memory only (%s)", exc)

    def _load_held(self) -> list[tuple[str, dict[str, Any], datetime]]:
        try:
            return self.store.load_held()
        except (sqlite3.Error, OSError) as exc:
            logger.error("cannot read the events held before the last stop: %s", exc)
            return []

    def _retry_storage(self) -> None:
        self._retry_at = None
        if self._unsaved_ledger is not None:
            self._save_ledger(self._unsaved_ledger)
        if self._held:
            self._store_held()

    def _save_ledger(self, ledger: Ledger) -> None:
        try:
            self.store.save_ledger(ledger)
        except (sqlite3.Error, OSError) as exc:
            # The outbox is the record: a ledger behind it is reconciled at start. Keep the
            # newest and try again.
            if self._unsaved_ledger is None:
                logger.error("cannot save the ledger (%s); retrying", exc)
            self._unsaved_ledger = ledger
            if self._retry_at is None:
                self._retry_at = self.clock.monotonic() + HOLD_RETRY_S
            return
        if self._unsaved_ledger is not None:
            logger.warning("ledger saved again")
        self._unsaved_ledger = None

    def _append_raw(self, raw: list[tuple[MachineInput, datetime]]) -> None:
        try:
            self.store.append_inputs(raw)
        except (sqlite3.Error, OSError) as exc:
            # The raw log is a diagnostic aid: a full disk drops its rows, not the loop.
            if not self._local_store_failing:
                logger.error("raw input log not written (%s); dropping rows until it works", exc)
            self._local_store_failing = True
            return
        if self._local_store_failing and raw:
            self._local_store_failing = False
            logger.warning("raw input log written again")

    def _publish_state(self, *, force: bool = False) -> None:
        state = self.state()
        self.latest_state = state
        if not force and state == self._published:
            self._state_due = None
            return
        now = time.monotonic()
        if not force and now - self._last_publish < STATE_INTERVAL_S:
            self._state_due = self._last_publish + STATE_INTERVAL_S  # coalesce bursts
            return
        self.events.publish_state(state)
        self._published, self._last_publish, self._state_due = state, now, None

    def _wall(self, t: float) -> datetime:
        """The UTC wall time of monotonic time `t` (both run at the clock's one speed)."""
        return self.clock.now() - timedelta(seconds=self.clock.monotonic() - t)

    # -- inputs from adapter threads -----------------------------------------------------------

    def _on_edge(self, name: Input, active: bool, t: float) -> None:
        self.submit(Edge(t, name, active))

    def _on_line(self, line: str) -> None:
        t = self.clock.monotonic()
        parsed = parse_line(line, self._booking_re)
        if parsed.kind == "pin" or parsed.kind == "badge":
            # PBKDF2 takes a moment: done here, in the keypad's thread, not in the loop.
            officer = find_officer(self._officers, parsed.kind, parsed.value)
            self.submit(Authorization(t, parsed.kind, officer))
        elif parsed.kind == "count":
            self.submit(CountEntered(t, int(parsed.value), "keypad"))
        elif parsed.kind == "booking" and _SAFE_BOOKING.match(parsed.value):
            self.submit(BookingScanned(t, parsed.value))
        else:
            logger.info("keypad/scanner line not recognized; ignored")

    def _on_count_command(self, _topic: str, payload: bytes) -> None:
        """A count sent by the back office, parsed by the uplink against the contract."""
        self._count_handler(_topic, payload)

    def _report_bad_inbound(self, what: str, reason: str) -> None:
        if self.uplink is None:
            return
        detail = f"bad {what} message ignored: {reason}"
        fault = vocabulary.fault("uplink", "bad_inbound", True, detail)
        try:
            self.uplink.record(fault.type, fault.payload)
        except Exception:  # a fault report must never become a second fault
            logger.exception("could not record the bad-message fault")

    def _on_count(self, count: inbound.CollectionCount) -> None:
        self.submit(
            CountEntered(self.clock.monotonic(), count.counted, "backoffice", count.collection_id)
        )

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _print_loop(self) -> None:
        printer = self.printer
        while printer is not None and (job := self._print_jobs.get()) is not None:
            lines = slip_lines(
                deposit_no=job.deposit_no,
                box_id=self.config.box_id,
                when=self._wall(job.t).astimezone(self._zone).strftime("%d-%m-%Y %H:%M"),
                code=job.code,
                booking_ref=job.booking_ref,
                box_full=job.box_full,
            )
            try:
                printer.print_slip(lines)
            except PrinterError as exc:
                logger.warning("slip for deposit %d not printed: %s", job.deposit_no, exc)
                if self._printer_fault != exc.code:
                    if self._printer_fault is not None:
                        self._fault("printer", self._printer_fault, False)
                    self._printer_fault = exc.code
                    self._fault("printer", exc.code, True)
            except Exception:  # thread boundary: a printer bug must not stop the slips
                logger.exception("slip for deposit %d failed", job.deposit_no)
            else:
                if self._printer_fault is not None:
                    self._fault("printer", self._printer_fault, False)
                    self._printer_fault = None

    def _fault(self, component: str, code: str, active: bool) -> None:
        self.submit(FaultReport(self.clock.monotonic(), component, code, active))

    def _fill_loop(self) -> None:
        fill = self.fill
        interval_s = real_s(self.clock, self.config.fill.sample_interval_s)
        while fill is not None and not self._closing.is_set():
            try:
                reading = fill.read_distance_cm()
            except OSError as exc:
                logger.warning("fill sensor read failed: %s", exc)
                reading = None
            if self._closing.is_set():
                return
            self.submit(FillReading(self.clock.monotonic(), reading))
            self._fill_wake.wait(interval_s)
            self._fill_wake.clear()


def pending_events(outbox: Outbox) -> list[tuple[str, Mapping[str, Any]]]:
    """The outbox's unacknowledged events as (type, payload), oldest first (unreadable rows
    are skipped with a warning: they cannot be reconciled, and are still sent as they are)."""
    out: list[tuple[str, Mapping[str, Any]]] = []
    seq = 0
    while rows := outbox.after(seq, 1000):
        for row in rows:
            try:
                data = json.loads(row.body)
                type_name, payload = data["type"], data["payload"]
                if not isinstance(type_name, str) or not isinstance(payload, dict):
                    raise TypeError("type or payload of the wrong kind")
            except (ValueError, KeyError, TypeError) as exc:
                logger.warning("outbox row %d is unreadable (%s); not reconciled", row.seq, exc)
                continue
            out.append((type_name, payload))
        seq = rows[-1].seq
    return out


def _close_quietly(what: str, close: Callable[[], object]) -> None:
    try:
        close()
    except Exception:  # shutdown boundary: log, close the rest
        logger.exception("closing %s failed", what)


def when_set(event: threading.Event, action: Callable[[], None]) -> None:
    """Call `action` (in a daemon thread) once `event` is set."""

    def watch() -> None:
        event.wait()
        action()

    threading.Thread(target=watch, name="dropbox-watch", daemon=True).start()
