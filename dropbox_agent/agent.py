"""The box's runtime: one loop feeds GPIO edges, keypad lines and sensor readings to the
pure `BoxMachine` and carries out its effects (events committed before any feedback).

Its parts, one job each: `inputs` turns what the adapters' threads deliver into machine inputs,
`held` keeps the events the outbox cannot take while storage fails, `slips` prints on its own
thread, `state_publisher` coalesces the retained state, `restore` brings the counters up to date
at start. The wiring that builds a `DropboxAgent` from a config is `dropbox_agent.app.build`; the
simulated boxes that drive one are in `dropbox_agent.sim.runner`.
"""

from __future__ import annotations

import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dropbox_agent.config import DropboxConfig
from dropbox_agent.domain.codes import random_code
from dropbox_agent.domain.machine import BoxMachine
from dropbox_agent.domain.model import (
    BoxCounters,
    Effect,
    FaultReport,
    MachineInput,
    Notice,
    Output,
    PrintReceipt,
    Pulse,
    Record,
    SaveCounters,
    SetOutput,
)
from dropbox_agent.held import STORAGE_FAULT, HeldEvents
from dropbox_agent.inputs import COUNT_COMMAND, FillPoller, InputFeed
from dropbox_agent.ports import BoxIO, BoxStore, FillSensor, LineSource, ReceiptPrinter
from dropbox_agent.restore import caught_up
from dropbox_agent.slips import SlipPrinter
from dropbox_agent.state_publisher import StatePublisher
from receipts.status import can_print
from uplink import Clock, Envelope, EventSink, Uplink, systemd, topics
from uplink.clock import real_s
from uplink.startup import StartupReport, Wait

logger = logging.getLogger(__name__)

BATCH = 256  # inputs handled per loop pass before the raw log is written
_STOP = object()
_WAKE = object()
ERROR_TONE_S = 1.5  # the buzzer's long tone instead of the beep when a deposit is not stored

RecordListener = Callable[[Record, Envelope], None]


class DropboxAgent:
    """The box's event loop: GPIO edges, keypad lines and sensor readings in, effects out.

    Inputs arrive on one queue from the adapters' threads; a single thread (`run`, or a test
    calling `pump`) feeds them to the pure `BoxMachine` and carries out its effects in order:
    events are committed to the outbox before any feedback, then the counters are saved. The loop
    sleeps until the next input or the machine's next deadline; it never polls.

    Args:
        config: the whole agent config.
        box: the GPIO inputs and outputs.
        events: where events go (the `Uplink`).
        store: the box store (counters, raw log, held events).
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
        store: BoxStore,
        clock: Clock,
        fill: FillSensor | None = None,
        printer: ReceiptPrinter | None = None,
        keypad: LineSource | None = None,
        uplink: Uplink | None = None,
    ) -> None:
        self.config = config
        self.box, self.store, self.clock = box, store, clock
        self.fill, self.printer, self.keypad, self.uplink = fill, printer, keypad, uplink
        self._machine: BoxMachine | None = None
        self._startup = self.startup_report()
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._inputs = InputFeed(config.collection, clock=clock, submit=self.submit, uplink=uplink)
        self._record_listeners: list[RecordListener] = []
        self._held = HeldEvents(
            events=events, store=store, clock=clock, committed=self._committed, fault=self._fault
        )
        self._raw_log_failing = False
        self._slips = (
            SlipPrinter(
                printer,
                box_id=config.box_id,
                timezone=ZoneInfo(config.timezone),
                wall=self._wall,
                fault=self._fault,
            )
            if printer is not None
            else None
        )
        self._fill_poller = (
            FillPoller(
                fill, interval_s=config.fill.sample_interval_s, clock=clock, submit=self.submit
            )
            if fill is not None and config.fill.enabled
            else None
        )
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._state = StatePublisher(events)
        self._events = events
        self._passes = threading.Condition()
        self._queued = 0  # inputs put on the queue (under _passes), and handled (loop thread)
        self._handled = 0
        self._idle = False  # set at the end of a pass that left nothing queued or settling
        self.latest_state: dict[str, Any] = {}  # set by the loop thread on every pass
        watchdog_usec = int(os.environ.get("WATCHDOG_USEC", "0") or 0)
        self._watchdog_s = watchdog_usec / 3e6 if watchdog_usec > 0 else None

    @property
    def events(self) -> EventSink:
        """Where events are recorded and the state published."""
        return self._events

    @events.setter
    def events(self, events: EventSink) -> None:
        # Replaceable while running (tests swap in a sink that is full): its users follow.
        self._events = self._held.events = self._state.events = events

    # -- life cycle ----------------------------------------------------------------------------

    @property
    def machine(self) -> BoxMachine:
        """The state machine (after `start`)."""
        if self._machine is None:
            raise RuntimeError("DropboxAgent.start() has not been called")
        return self._machine

    def start(self) -> None:
        """Restore the counters, arm the inputs, start the devices' threads and the uplink."""
        self._startup.begin()  # what the box waits for, before anything can fail or retry
        counters = self.store.load_counters() or BoxCounters()
        held = self._held.load()
        if self.uplink is not None:
            reconciled = caught_up(counters, self.uplink.outbox, held)
            if reconciled != counters:
                logger.warning(
                    "counters were behind the outbox (process stopped mid-deposit); now at deposit "
                    "%d, %d pending collection",
                    reconciled.last_deposit_no,
                    reconciled.pending_count,
                )
                self._held.save_counters(reconciled)  # a full disk: kept, saved when room returns
                counters = reconciled
            self.uplink.subscribe(
                topics.command(self.config.uplink.device_id, COUNT_COMMAND),
                self._inputs.on_count_command,
            )
            self.uplink.start()
        self._held.restore(held)
        # Listen before reading the levels: an edge in between is queued, not lost.
        self.box.listen(self._inputs.on_edge)
        self._machine = BoxMachine(
            self.config.machine_settings(),
            counters=counters,
            initial=self.box.levels(),
            t0=self.clock.monotonic(),
            code_source=random_code,
        )
        if self.keypad is not None:
            self.keypad.start(self._inputs.on_line)
        if self._slips is not None:
            self._spawn("dropbox-printer", self._slips.run)
        if self._fill_poller is not None:
            self._spawn("dropbox-fill", self._fill_poller.run)
        self._apply(self._machine.start())
        if self._held.count:  # the machine starts without the fault: tell it, so it clears later
            self._fault(*STORAGE_FAULT, True)
        if getattr(self.store, "moved_aside", None) is not None:  # loud, and it keeps counting
            self._fault("box_store", "replaced_unusable", True)
        self._publish_state(force=True)
        logger.info(
            "dropbox %s armed: %d deposits pending collection",
            self.config.box_id,
            counters.pending_count,
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
        if self._fill_poller is not None:
            self._fill_poller.stop()
        if self._slips is not None:
            self._slips.stop()
        for thread in self._threads:
            thread.join(5.0)
        if self._held.count:
            logger.error(
                "stopping with %d events not stored (storage full); the counters keep the count",
                self._held.count,
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
        _close_quietly("box store", self.store.close)

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
        retry_at = self._held.retry_at
        if retry_at is not None and self.clock.monotonic() >= retry_at:
            self._held.retry()
        self._append_raw(raw)
        self._publish_state()
        with self._passes:
            self._idle = self._handled == self._queued and not machine.settling
            self._passes.notify_all()
        return running

    @property
    def idle(self) -> bool:
        """Whether every queued input is handled and none is still settling (as of the last
        pass of the loop)."""
        with self._passes:
            return self._idle

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
        if self._state.due is not None:
            waits.append(self._state.due - time.monotonic())
        if self._held.retry_at is not None:
            waits.append(real_s(self.clock, self._held.retry_at - self.clock.monotonic()))
        if self._watchdog_s is not None:
            waits.append(self._watchdog_s)
        return max(0.0, min(waits)) if waits else None

    def state(self) -> dict[str, Any]:
        """The retained state message (see `BoxMachine.state`), with the agent's own alerts."""
        state = self.machine.state()
        if self._held.full:
            state["alerts"] = [*self._held.alerts(), *state["alerts"]]
        return state

    @property
    def held_events(self) -> int:
        """Events counted but not yet stored (storage full); stored once there is room."""
        return self._held.count

    def add_record_listener(self, listener: RecordListener) -> None:
        """Call `listener(record, envelope)` after each event is committed (loop thread)."""
        self._record_listeners.append(listener)

    def request_fill_reading(self) -> None:
        """Read the fill sensor now instead of at the next interval."""
        if self._fill_poller is not None:
            self._fill_poller.wake()

    # -- effects -------------------------------------------------------------------------------

    def _apply(self, effects: Iterable[Effect]) -> None:
        # No feedback without a stored event: once a record of this step is held (storage
        # full), its beep becomes the error tone and its slip is not printed.
        stored = True
        for effect in effects:
            if isinstance(effect, Record):
                stored = self._held.record(effect, self._wall(effect.t)) and stored
            elif isinstance(effect, SaveCounters):
                self._held.save_counters(effect.counters)
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
                elif self._slips is not None:
                    self._slips.submit(effect)
            elif isinstance(effect, Notice):
                logger.info("%s", effect.text)

    def _committed(self, record: Record, envelope: Envelope) -> None:
        for listener in self._record_listeners:
            listener(record, envelope)

    def _append_raw(self, raw: list[tuple[MachineInput, datetime]]) -> None:
        try:
            self.store.append_inputs(raw)
        except (sqlite3.Error, OSError) as exc:
            # The raw log is a diagnostic aid: a full disk drops its rows, not the loop.
            if not self._raw_log_failing:
                logger.error("raw input log not written (%s); dropping rows until it works", exc)
            self._raw_log_failing = True
            return
        if self._raw_log_failing and raw:
            self._raw_log_failing = False
            logger.warning("raw input log written again")

    def _publish_state(self, *, force: bool = False) -> None:
        state = self.state()
        self.latest_state = state
        self._state.publish(state, force=force)

    def _wall(self, t: float) -> datetime:
        """The UTC wall time of monotonic time `t` (both run at the clock's one speed)."""
        return self.clock.now() - timedelta(seconds=self.clock.monotonic() - t)

    def _fault(self, component: str, code: str, active: bool) -> None:
        self.submit(FaultReport(self.clock.monotonic(), component, code, active))

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)


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
