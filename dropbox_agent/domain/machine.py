"""The box's state machine: deposits, jams, door and collections, alarms, fill level and UV-C."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Literal

from dropbox_agent.domain import events, text
from dropbox_agent.domain.debounce import Debouncer, Settled
from dropbox_agent.domain.events import Event, UvTrigger
from dropbox_agent.domain.model import (
    AuthMethod,
    Authorization,
    BookingScanned,
    BoxCounters,
    CountEntered,
    Edge,
    Effect,
    FaultReport,
    FillReading,
    Input,
    MachineInput,
    MachineSettings,
    Notice,
    OpenCollection,
    Output,
    OutputMode,
    PrintReceipt,
    Pulse,
    Record,
    SaveCounters,
    SetOutput,
)

FillLevel = Literal["ok", "nearly_full", "full"]


class BoxMachine:
    """Turns timestamped inputs into events to record, outputs to set and slips to print.

    Single-threaded and clock-free: every input carries its monotonic time, and `advance(now)`
    fires the timeouts (debounce, jam, authorization window, buzzer, UV-C cycle, heartbeat)
    that fall due by `now`. `next_deadline()` says when the caller must call `advance` next, so
    the app sleeps until then instead of polling. Every input is kept in `raw_log`.

    Args:
        settings: the tunables.
        counters: the counters as persisted before (a fresh `BoxCounters()` on a new box).
        initial: each input's level at `t0` (missing inputs count as inactive).
        t0: monotonic time of start-up.
        code_source: returns a fresh short lookup code ("XXXX-XXXX") for each deposit.
    """

    def __init__(
        self,
        settings: MachineSettings,
        *,
        counters: BoxCounters,
        initial: Mapping[Input, bool],
        t0: float,
        code_source: Callable[[], str],
    ) -> None:
        self.s = settings
        self._id = settings.box_id  # every box event names its box
        self.counters = counters
        self.now = t0
        self.raw_log: deque[MachineInput] = deque(maxlen=settings.raw_log_size)
        self._codes = code_source
        self._effects: list[Effect] = []
        inputs = [Input.BEAM, Input.DOOR, Input.TAMPER] + (
            [Input.KEY] if settings.has_key_switch else []
        )
        self._deb = {
            i: Debouncer(settings.debounce_s[i], bool(initial.get(i, False)), t0) for i in inputs
        }
        self._blocked_at: float | None = None
        self.jam_active = False
        self._auth: tuple[str, AuthMethod, float] | None = None  # officer, method, valid until
        self._auth_failures = 0
        self._lockout_until: float | None = None
        self.door_forced = False
        self._door_closed_at: float | None = None
        self.count_overdue = False
        self.tamper_active = False
        self._buzz_until: float | None = None
        self.fill_percent: int | None = None
        self.fill_level: FillLevel = "ok"
        self._fill_failures = 0
        self.faults: set[str] = set()
        self.mismatch: tuple[int, int] | None = None  # expected, counted
        self._booking: tuple[str, float] | None = None
        self.uv_running: tuple[float, UvTrigger] | None = None
        self._uv_wanted: UvTrigger | None = None
        self._uv_start_at: float | None = None
        self._uv_next_scheduled: float | None = None
        self._next_heartbeat: float | None = None
        self._outputs: dict[Output, OutputMode] = {}

    # -- public API ----------------------------------------------------------------------------

    def start(self) -> list[Effect]:
        """Act on the levels found at start-up; returns the first effects (outputs included)."""
        t0 = self.now
        if self._deb[Input.BEAM].stable:
            self._blocked_at = t0
        if self._deb[Input.TAMPER].stable:
            self._on_tamper(Settled(t0, True))
        if Input.KEY in self._deb and self._deb[Input.KEY].stable:
            self._on_key(Settled(t0, True))
        oc = self.counters.open_collection
        if self._deb[Input.DOOR].stable and oc is None:
            self._forced_open(t0)
        elif oc is not None and not self._deb[Input.DOOR].stable:
            if oc.counted is None:
                self._door_closed_at = t0  # restarted while the count was awaited
            else:
                self._set_counters(replace(self.counters, open_collection=None))
        if self.s.heartbeat_interval_s > 0:
            self._next_heartbeat = t0 + self.s.heartbeat_interval_s
        if self.s.uv_enabled and self.s.uv_schedule_interval_s > 0:
            self._uv_next_scheduled = t0 + self.s.uv_schedule_interval_s
        self._update_outputs()
        return self._take()

    def feed(self, item: MachineInput) -> list[Effect]:
        """Process one input (after firing every timeout due before it)."""
        self.raw_log.append(item)
        self._advance_to(item.t)
        if isinstance(item, Edge):
            self._on_edge(item)
        elif isinstance(item, Authorization):
            self._on_authorization(item)
        elif isinstance(item, CountEntered):
            self._on_count(item)
        elif isinstance(item, FillReading):
            self._on_fill(item)
        elif isinstance(item, BookingScanned):
            self._booking = (item.ref, item.t + self.s.booking_link_window_s)
        else:
            self._on_fault(item)
        self._update_outputs()
        return self._take()

    def advance(self, now: float) -> list[Effect]:
        """Fire the timeouts due by `now`."""
        self._advance_to(now)
        self._update_outputs()
        return self._take()

    def next_deadline(self) -> float | None:
        """The next moment `advance` has something to do, or None."""
        candidates = [d.deadline() for d in self._deb.values()]
        if self._blocked_at is not None and not self.jam_active:
            candidates.append(self._blocked_at + self.s.jam_after_s)
        if self._auth is not None and math.isfinite(self._auth[2]):
            candidates.append(self._auth[2])
        if self._door_closed_at is not None and not self.count_overdue:
            candidates.append(self._door_closed_at + self.s.count_confirm_timeout_s)
        if self.uv_running is not None:
            candidates.append(self.uv_running[0] + self.s.uv_cycle_s)
        candidates += [
            self._lockout_until,
            self._buzz_until,
            self._booking[1] if self._booking else None,
            self._uv_start_at,
            self._uv_next_scheduled,
            self._next_heartbeat,
        ]
        due = [c for c in candidates if c is not None]
        return min(due) if due else None

    @property
    def settling(self) -> bool:
        """True while a raw change waits out its debounce time."""
        return any(d.deadline() is not None for d in self._deb.values())

    @property
    def door_open(self) -> bool:
        return self._deb[Input.DOOR].stable

    @property
    def door_raw_open(self) -> bool:
        return self._deb[Input.DOOR].raw

    @property
    def outputs(self) -> Mapping[Output, OutputMode]:
        return dict(self._outputs)

    @property
    def locked_out(self) -> bool:
        return self._lockout_until is not None

    @property
    def alarm_active(self) -> bool:
        return self.tamper_active or self.door_forced or self.locked_out

    def state(self) -> dict[str, Any]:
        """The retained state message: summary and alerts for `backoffice watch`, and details."""
        oc = self.counters.open_collection
        state: dict[str, Any] = {
            "box_id": self.s.box_id,
            "summary": text.summary(
                self.counters.pending_count, self.door_open, self.fill_percent, self.uv_running
            ),
            "alerts": text.alerts(self),
            "deposits_pending_collection": self.counters.pending_count,
            "deposits_total": self.counters.last_deposit_no,
            "door": "open" if self.door_open else "closed",
            "fill_percent": self.fill_percent,
            "fill_level": self.fill_level,
            "jam": self.jam_active,
            "uv": "running" if self.uv_running else "off",
            "faults": sorted(self.faults),
            "collection": None
            if oc is None
            else {
                "collection_id": oc.collection_id,
                "deposits_logged": oc.expected,
                "counted": oc.counted,
            },
        }
        return state

    # -- time ----------------------------------------------------------------------------------

    def _advance_to(self, t: float) -> None:
        while (deadline := self.next_deadline()) is not None and deadline <= t:
            self._fire(deadline)
        self.now = max(self.now, t)

    def _fire(self, d: float) -> None:
        self.now = max(self.now, d)
        for name, debouncer in self._deb.items():
            for settled in debouncer.advance(d):
                self._on_settled(name, settled)
        if self._blocked_at is not None and not self.jam_active:
            if self._blocked_at + self.s.jam_after_s <= d:
                self.jam_active = True
                self._record(events.jam(self._id, active=True, blocked_s=self.s.jam_after_s), d)
        if self._auth is not None and self._auth[2] <= d:
            self._auth = None
        if self._lockout_until is not None and self._lockout_until <= d:
            self._lockout_until = None
            self._auth_failures = 0
            self._record(events.tamper(self._id, cause="auth_failures", active=False), d)
        if self._buzz_until is not None and self._buzz_until <= d:
            self._buzz_until = None
        if self._door_closed_at is not None and not self.count_overdue:
            if self._door_closed_at + self.s.count_confirm_timeout_s <= d:
                self.count_overdue = True
                self._effects.append(Notice("collection count not confirmed in time"))
        if self._booking is not None and self._booking[1] <= d:
            self._booking = None
        self._fire_uv(d)
        if self._next_heartbeat is not None and self._next_heartbeat <= d:
            self._next_heartbeat = d + self.s.heartbeat_interval_s
            self._heartbeat(d)

    # -- inputs --------------------------------------------------------------------------------

    def _on_edge(self, edge: Edge) -> None:
        debouncer = self._deb.get(edge.input)
        if debouncer is None:
            self._effects.append(Notice(f"edge on unconfigured input {edge.input}"))
            return
        for settled in debouncer.edge(edge.t, edge.active):
            self._on_settled(edge.input, settled)
        # The UV-C interlock acts on the raw level, before any debouncing.
        if edge.input not in (Input.DOOR, Input.TAMPER):
            return
        if edge.active:
            self._uv_start_at = None
            if self.uv_running is not None:
                self._uv_abort("door_open" if edge.input is Input.DOOR else "tamper", edge.t)
        elif self._uv_wanted is not None and self._uv_start_at is None:
            # A bounce that never settled aborted a cycle: rearm once everything reads shut.
            if self._uv_safe() and not self.tamper_active:
                self._uv_start_at = edge.t + self.s.uv_start_delay_s

    def _on_settled(self, name: Input, settled: Settled) -> None:
        if name is Input.BEAM:
            self._on_beam(settled)
        elif name is Input.DOOR:
            self._on_door(settled)
        elif name is Input.TAMPER:
            self._on_tamper(settled)
        else:
            self._on_key(settled)

    def _on_beam(self, settled: Settled) -> None:
        if settled.active:
            self._blocked_at = settled.at
            return
        if self._blocked_at is None:
            return
        blocked_s = settled.at - self._blocked_at
        self._blocked_at = None
        after_jam = self.jam_active
        if after_jam:
            self.jam_active = False
            self._record(events.jam(self._id, active=False, blocked_s=round(blocked_s, 3)))
        self._deposit(settled.at, blocked_s, after_jam)

    def _deposit(self, t: float, blocked_s: float, after_jam: bool) -> None:
        counters = self.counters
        number = counters.last_deposit_no + 1
        pending = counters.pending_count + 1
        code = self._codes()
        booking = None
        if self._booking is not None and self._booking[1] >= t:
            booking = self._booking[0]
        self._booking = None
        deposit = events.deposit(
            self._id,
            deposit_no=number,
            code=code,
            blocked_ms=round(blocked_s * 1000),
            pending_collection=pending,
            after_jam=after_jam,
            during_collection=self.door_open,
            booking_ref=booking,
        )
        self._record(deposit, t)
        self.counters = replace(
            counters,
            last_deposit_no=number,
            pending_count=pending,
            pending_first_no=counters.pending_first_no or number,
        )
        self._effects.append(SaveCounters(self.counters))
        self._effects.append(Pulse(Output.BUZZER, self.s.beep_s))
        if self.s.has_printer:
            self._effects.append(
                PrintReceipt(number, code, t, booking, box_full=self.fill_level == "full")
            )

    def _on_door(self, settled: Settled) -> None:
        if settled.active:
            if self._authorized(settled.at):
                self._authorized_open(settled.at)
            else:
                self._forced_open(settled.at)
            return
        oc = self.counters.open_collection
        closed = events.door(
            self._id,
            open=False,
            authorized=not self.door_forced,
            collection_id=None if oc is None else oc.collection_id,
        )
        self._record(closed, settled.at)
        if self.door_forced:
            self.door_forced = False
            self._record(events.tamper(self._id, cause="door_forced", active=False), settled.at)
        if oc is not None:
            if oc.counted is not None:
                self._set_counters(replace(self.counters, open_collection=None))
            else:
                self._door_closed_at = settled.at
            if self.s.uv_enabled:
                self._uv_wanted = "after_collection"
        if self._uv_wanted is not None and not self.tamper_active:
            self._uv_start_at = settled.at + self.s.uv_start_delay_s

    def _authorized(self, t: float) -> bool:
        return self._auth is not None and self._auth[2] >= t

    def _authorized_open(self, t: float) -> None:
        if self._auth is None:  # callers check `_authorized` first
            return
        officer_id, method, _until = self._auth
        oc = self.counters.open_collection
        if oc is None:
            counters = self.counters
            number = counters.collection_no + 1
            collection_id = f"{self.s.box_id}-c{number}"
            started = events.collection_started(
                self._id,
                collection_id=collection_id,
                officer_id=officer_id,
                method=method,
                deposits_logged=counters.pending_count,
                first_deposit_no=counters.pending_first_no,
                last_deposit_no=counters.last_deposit_no,
            )
            self._record(started, t)
            oc = OpenCollection(collection_id, officer_id, method, counters.pending_count)
            self._set_counters(
                replace(
                    counters,
                    pending_count=0,
                    pending_first_no=None,
                    collection_no=number,
                    open_collection=oc,
                )
            )
            self.mismatch = None
        self._record(
            events.door(self._id, open=True, authorized=True, collection_id=oc.collection_id), t
        )
        self._door_closed_at = None
        self.count_overdue = False
        if method != "key":
            self._auth = None  # one opening per credential

    def _forced_open(self, t: float) -> None:
        self.door_forced = True
        self._record(events.door(self._id, open=True, authorized=False), t)
        self._record(events.tamper(self._id, cause="door_forced", active=True), t)
        self._sound_alarm()

    def _on_tamper(self, settled: Settled) -> None:
        self.tamper_active = settled.active
        self._record(events.tamper(self._id, cause="switch", active=settled.active), settled.at)
        if settled.active:
            self._sound_alarm()
        elif self._uv_wanted is not None and not self.door_open:
            self._uv_start_at = settled.at + self.s.uv_start_delay_s

    def _on_key(self, settled: Settled) -> None:
        if settled.active:
            self._auth = (self.s.key_officer_id, "key", math.inf)
            self._record(
                events.authorization(self._id, method="key", officer_id=self.s.key_officer_id),
                settled.at,
            )
        elif self._auth is not None and self._auth[1] == "key":
            self._auth = None

    def _on_authorization(self, item: Authorization) -> None:
        if self._lockout_until is not None:
            refused = events.authorization(
                self._id, method=item.method, officer_id=None, locked_out=True
            )
            self._record(refused, item.t)
            return
        if item.officer_id is None:
            self._auth_failures += 1
            refused = events.authorization(self._id, method=item.method, officer_id=None)
            self._record(refused, item.t)
            if self._auth_failures >= self.s.max_auth_failures:
                self._lockout_until = item.t + self.s.auth_lockout_s
                self._record(events.tamper(self._id, cause="auth_failures", active=True), item.t)
                self._sound_alarm()
            return
        self._auth_failures = 0
        self._auth = (item.officer_id, item.method, item.t + self.s.authorization_window_s)
        granted = events.authorization(self._id, method=item.method, officer_id=item.officer_id)
        self._record(granted, item.t)
        self._effects.append(Pulse(Output.BUZZER, self.s.beep_s))

    def _on_count(self, item: CountEntered) -> None:
        oc = self.counters.open_collection
        if item.collection_id is not None and (refusal := self._count_refusal(item)) is not None:
            # A count sent from the back office names its collection; the officer who sent it
            # waits for this answer (`backoffice collection-count`), so a refusal is an event too.
            refused = events.count_refused(
                self._id, collection_id=item.collection_id, counted=item.counted, reason=refusal
            )
            self._record(refused, item.t)
            return
        if oc is None:
            self._effects.append(Notice("count entered with no collection open; ignored"))
            return
        if item.collection_id is not None and item.collection_id != oc.collection_id:
            self._effects.append(Notice(f"count for {item.collection_id} is not for the open one"))
            return
        counted = events.collection_counted(
            self._id,
            collection_id=oc.collection_id,
            officer_id=oc.officer_id,
            deposits_logged=oc.expected,
            counted=item.counted,
            source=item.source,
        )
        self.mismatch = None if item.counted == oc.expected else (oc.expected, item.counted)
        self._record(counted, item.t)
        self.count_overdue = False
        self._door_closed_at = None
        if self.door_open:
            self._set_counters(
                replace(self.counters, open_collection=replace(oc, counted=item.counted))
            )
        else:
            self._set_counters(replace(self.counters, open_collection=None))

    def _count_refusal(self, item: CountEntered) -> str | None:
        """Why a count naming a collection cannot be taken: "already_counted" (a collection
        of this box that was counted and closed, or is open and counted), "unknown_collection"
        (any other id), or None (the open collection, awaiting its count)."""
        oc = self.counters.open_collection
        if oc is not None and item.collection_id == oc.collection_id:
            return None if oc.counted is None else "already_counted"
        prefix = f"{self.s.box_id}-c"
        number = (item.collection_id or "").removeprefix(prefix)
        # Collections are numbered in order and a new one opens only after the last was counted.
        if item.collection_id != number and number.isdigit() and number == str(int(number)):
            if 0 < int(number) <= self.counters.collection_no:
                return "already_counted"
        return "unknown_collection"

    def _on_fill(self, item: FillReading) -> None:
        if not self.s.fill_enabled:
            return
        if item.distance_cm is None:
            self._fill_failures += 1
            if self._fill_failures == self.s.fill_failures_for_fault:
                self._fault("fill_sensor", "no_echo", True, item.t)
            return
        self._fill_failures = 0
        self._fault("fill_sensor", "no_echo", False, item.t)
        span = self.s.empty_distance_cm - self.s.full_distance_cm
        ratio = (self.s.empty_distance_cm - item.distance_cm) / span
        self.fill_percent = max(0, min(100, round(ratio * 100)))
        level = self._fill_level_for(self.fill_percent)
        if level != self.fill_level:
            self.fill_level = level
            reading = events.fill(
                self._id, level=level, fill_percent=self.fill_percent, distance_cm=item.distance_cm
            )
            self._record(reading, item.t)

    def _fill_level_for(self, percent: int) -> FillLevel:
        nearly, full, hyst = (
            self.s.nearly_full_percent,
            self.s.full_percent,
            self.s.fill_hysteresis_percent,
        )
        if percent >= full:
            return "full"
        if self.fill_level == "full" and percent > full - hyst:
            return "full"
        if percent >= nearly:
            return "nearly_full"
        if self.fill_level != "ok" and percent > nearly - hyst:
            return "nearly_full"
        return "ok"

    def _on_fault(self, item: FaultReport) -> None:
        self._fault(item.component, item.code, item.active, item.t)

    def _fault(self, component: str, code: str, active: bool, t: float) -> None:
        key = f"{component}:{code}"
        if active == (key in self.faults):
            return
        if active:
            self.faults.add(key)
        else:
            self.faults.discard(key)
        self._record(events.fault(component, code, active), t)

    # -- UV-C ----------------------------------------------------------------------------------

    def _fire_uv(self, d: float) -> None:
        if self.uv_running is not None and self.uv_running[0] + self.s.uv_cycle_s <= d:
            _started, trigger = self.uv_running
            self.uv_running = None
            completed = events.disinfection_completed(
                self._id, trigger=trigger, duration_s=self.s.uv_cycle_s
            )
            self._record(completed, d)
        if self._uv_next_scheduled is not None and self._uv_next_scheduled <= d:
            self._uv_next_scheduled = d + self.s.uv_schedule_interval_s
            if self.uv_running is None and self._uv_wanted is None:
                self._uv_wanted = "schedule"
                self._uv_start_at = d
        if self._uv_start_at is not None and self._uv_start_at <= d:
            self._uv_start_at = None
            if self._uv_safe() and self._uv_wanted is not None and self.uv_running is None:
                self.uv_running = (d, self._uv_wanted)
                self._uv_wanted = None

    def _uv_safe(self) -> bool:
        door, tamper = self._deb[Input.DOOR], self._deb[Input.TAMPER]
        return not (door.raw or door.stable or tamper.raw or tamper.stable)

    def _uv_abort(self, reason: Literal["door_open", "tamper"], t: float) -> None:
        if self.uv_running is None:
            return
        started, trigger = self.uv_running
        self.uv_running = None
        self._uv_wanted = trigger  # run the full cycle again once the box is closed
        aborted = events.disinfection_aborted(
            self._id, trigger=trigger, reason=reason, duration_s=t - started
        )
        self._record(aborted, t)

    # -- outputs and helpers -------------------------------------------------------------------

    def _update_outputs(self) -> None:
        alarm = self.alarm_active
        attention = (
            self.jam_active or bool(self.faults) or self.mismatch is not None or self.count_overdue
        )
        wanted = {
            Output.READY_LED: OutputMode.OFF
            if self.jam_active or self.fill_level == "full"
            else OutputMode.ON,
            Output.FULL_LED: {
                "full": OutputMode.ON,
                "nearly_full": OutputMode.BLINK,
                "ok": OutputMode.OFF,
            }[self.fill_level],
            Output.ALARM_LED: OutputMode.ON
            if alarm
            else (OutputMode.BLINK if attention else OutputMode.OFF),
            Output.BUZZER: OutputMode.ON
            if alarm and self._buzz_until is not None
            else OutputMode.OFF,
            Output.UV_RELAY: OutputMode.ON
            if self.uv_running is not None and self._uv_safe()
            else OutputMode.OFF,
        }
        for output, mode in wanted.items():
            if self._outputs.get(output) != mode:
                self._outputs[output] = mode
                self._effects.append(SetOutput(output, mode))

    def _sound_alarm(self) -> None:
        self._buzz_until = max(self._buzz_until or 0.0, self.now + self.s.alarm_buzzer_s)

    def _heartbeat(self, t: float) -> None:
        beat = events.heartbeat(
            self._id,
            pending=self.counters.pending_count,
            total=self.counters.last_deposit_no,
            door_open=self.door_open,
            faults=sorted(self.faults),
            fill_percent=self.fill_percent,
        )
        self._record(beat, t)

    def _record(self, event: Event, t: float | None = None) -> None:
        self._effects.append(Record(event.type, event.payload, self.now if t is None else t))

    def _set_counters(self, counters: BoxCounters) -> None:
        self.counters = counters
        self._effects.append(SaveCounters(counters))

    def _take(self) -> list[Effect]:
        effects, self._effects = self._effects, []
        return effects
