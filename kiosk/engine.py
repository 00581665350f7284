"""The check-in engine: scan → verify → temperature → durable check-in → ticket, without a UI.

The engine orchestrates over its ports (`kiosk.ports`: verifier, ledger, ticket book,
thermometer, printer, event sink, clock); what to do at each step (which phase, the crash-resume
table, which screen, which event, what a ticket or referral slip says) is decided in
`kiosk.domain.checkin`, the day numbers count in in `kiosk.domain.tickets`, and what its
retained state says in `kiosk.domain.status`. The camera loop that decodes frames
(`kiosk.runtime.Kiosk`) hands it every text of a frame (`read_codes`).

Threading: one thread (the kiosk loop) owns the engine and calls `tick()` and `read_codes()`.
A UI or simulation calls the intent methods (`scan`, `enter_code`, `start_walkin`,
`choose_service`, `cancel`) from any thread: they only queue a command. Screen listeners are
called on the engine's thread; a UI hands the `Screen` to its own thread (the one seam).

Order of a check-in, so that nothing is lost and nothing is doubled:
1. the booking is verified (signature first, then the rules) and the temperature gate passes;
2. the ledger claims the booking (durable; a second claim fails: "already checked in");
3. the ticket book takes the next number for this check-in (durable, idempotent per check-in);
4. `kiosk.checkin.accepted` is recorded in the uplink outbox (durable);
5. the ticket book marks the ticket as printing (durable), and only then the ticket prints; if the
   printer is out of paper or offline the number is shown on screen and a fault is recorded;
6. `kiosk.ticket.issued` is recorded (durable), and then the book marks the ticket delivered.

Events recorded again on resume (4 and 6) keep the id they were first recorded with (derived
from the check-in and the time it was numbered), so each is one event.

A kiosk that stops anywhere in 2-6 loses nobody: when the participant shows the QR again, a
booking claimed here without a number is measured and numbered, a number not yet delivered is
printed, and a ticket that was (or may have been) printed is shown on screen, never printed twice
(`kiosk.domain.checkin.resume`). If the outbox or a store cannot be written (`StorageError`,
`StoreError`), the kiosk goes out of service (no unrecorded ticket).
A typed booking code is looked up online off the engine's thread (`background`).
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from typing import Any, Literal

from kiosk.booking.model import Verdict
from kiosk.booking.reasons import verdict as reason_verdict
from kiosk.domain import checkin as flow
from kiosk.domain import scanning, screens, status
from kiosk.domain.capacity import OccupancyView
from kiosk.domain.checkin import (
    SCAN_PHASES,
    BookedCheckin,
    Checkin,
    CheckinResult,
    Ending,
    Hold,
    Issued,
)
from kiosk.domain.screens import STAFF_CHECK_NOTE, STORAGE_BROKEN, Bilingual, Phase, Screen
from kiosk.domain.temperature import GateResult, TemperatureGate, TemperaturePolicy
from kiosk.domain.tickets import (
    PriorityClass,
    Ticket,
    format_number,
    layout,
    numbering_day,
    referral_layout,
    served_before_or_with,
)
from kiosk.errors import PrinterError, StoreError, ThermometerError
from kiosk.ports import Ledger, Thermometer, TicketBook, TicketPrinter, Verifier
from uplink import Clock, EventSink, StorageError
from uplink.booking.model import SERVICES, Booking, Service
from uplink.ids import derived_event_id

logger = logging.getLogger(__name__)

ScreenListener = Callable[[Screen], None]
FinishedListener = Callable[[CheckinResult], None]
VerifyTypedCode = Callable[[str, datetime], Verdict]
Unsubscribe = Callable[[], None]
UNRECORDABLE = (StoreError, StorageError)
"""A store or the outbox cannot be written: checking people in would lose them."""
STORAGE_RETRY_S = 30.0
CLOCK_CHECK_S = 5.0  # how often the clock's synchronisation is asked (cached by the clock)
"""While out of service for storage, try writing again this often (s)."""

__all__ = [
    "SCAN_PHASES",
    "CheckinEngine",
    "CheckinResult",
    "EngineSettings",
    "FinishedListener",
    "ScreenListener",
    "Unsubscribe",
    "VerifyTypedCode",
]


@dataclass(frozen=True)
class EngineSettings:
    """Everything the engine needs to know that is not a device (see `kiosk.app.settings_from`)."""

    kiosk_id: str
    branch: str
    branch_name: str
    zone: tzinfo
    kiosk_code: str
    class_letters: Mapping[PriorityClass, str]
    track_url: str = "https://lapakasik.bpjsketenagakerjaan.go.id/lacak?ref={ref}"
    columns: int = 32
    policy: TemperaturePolicy = field(default_factory=TemperaturePolicy)
    on_unavailable: Literal["staff_check", "refuse"] = "staff_check"
    store_readings: bool = False
    link_temperature: bool = False
    referral_slip: bool = True
    ticket_screen_s: float = 15.0
    message_screen_s: float = 12.0
    choice_timeout_s: float = 30.0
    repeat_ignore_s: float = 8.0
    people_ahead_window_min: int = 60


def _event_id_of(checkin_id: str, issued_at: datetime, type_name: str) -> str:
    """The one id of a numbered check-in's `type_name` event (its acceptance, its ticket), the
    same each time it is recorded: `issued_at` is when the ticket book numbered it."""
    at_ms = int(issued_at.timestamp() * 1000)
    return derived_event_id(f"{checkin_id}/{type_name}", at_ms)


def _in_thread(job: Callable[[], None]) -> None:
    threading.Thread(target=job, name="kiosk-lookup", daemon=True).start()


class CheckinEngine:
    """The kiosk's check-in flow over its ports.

    Args:
        settings: identity, ticket and timing settings.
        verifier: booking token verifier (part of `kiosk.booking`).
        ledger: durable booking check-in ledger.
        thermometer, printer: devices (real or simulated).
        events: the uplink (`record` is durable before it returns).
        book: durable ticket counters and check-ins.
        clock: time (ManualClock in tests and the headless CLI).
        occupancy: the branch's occupancy reports, if subscribed.
        lookup: typed booking-code lookup (online), if available.
        refresh: verifies a scanned token again after fetching the trust list, for a token
            signed by a key this kiosk does not hold yet (`kiosk.booking.TrustRefresh`).
        background: runs slow work (the online code lookup) off the engine's thread; its
            result comes back as a queued command (default: a daemon thread per job).
    """

    def __init__(
        self,
        settings: EngineSettings,
        *,
        verifier: Verifier,
        ledger: Ledger,
        thermometer: Thermometer,
        printer: TicketPrinter,
        events: EventSink,
        book: TicketBook,
        clock: Clock,
        occupancy: OccupancyView | None = None,
        lookup: VerifyTypedCode | None = None,
        refresh: VerifyTypedCode | None = None,
        background: Callable[[Callable[[], None]], None] | None = None,
        data_age: Callable[[], tuple[str, str] | Bilingual] | None = None,
    ) -> None:
        self.settings = settings
        self._verifier = verifier
        self._ledger = ledger
        self._thermometer = thermometer
        self._printer = printer
        self._events = events
        self._book = book
        self._clock = clock
        self.occupancy = occupancy or OccupancyView(max_age_s=600)
        self._lookup = lookup
        self._refresh = refresh
        self._data_age = data_age
        self._background = background or _in_thread
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._listeners: list[ScreenListener] = []
        self._finished_listeners: list[FinishedListener] = []
        # Held while listeners are called, so a new subscriber never sees screens out of order.
        self._listeners_lock = threading.RLock()
        self._current: Checkin | None = None
        self._screen = screens.idle(full=False)
        self._screen_until: float | None = None
        self._recent = scanning.RecentCodes()
        self._faults: dict[str, str] = {}  # component -> active fault code
        self.out_of_service_reason = ""
        self._storage_retry_at: float | None = None  # out of service for storage: next try
        self._storage_since = self._clock.now()
        self._clock_unsynced = not self._clock.synced()
        self._clock_checked = self._clock.monotonic()
        self._screen = replace(self._screen, clock_unsynced=self._clock_unsynced)
        self._started = False  # the first tick settles tickets a stop left printing

    # -- observing ----------------------------------------------------------------------------

    @property
    def screen(self) -> Screen:
        """The current screen (the engine's observable state)."""
        return self._screen

    def subscribe(self, listener: ScreenListener) -> Unsubscribe:
        """Call `listener(screen)` with the current screen now, then on every change.

        The first call happens on the caller's thread, later ones on the engine's thread; a
        listener that raises is logged and kept. Returns a function that ends the subscription.
        """
        with self._listeners_lock:
            self._listeners.append(listener)
            self._call(listener, self._screen)
        return lambda: self._remove(self._listeners, listener)

    def on_finished(self, listener: FinishedListener) -> Unsubscribe:
        """Call `listener(result)` each time a check-in ends (ticket, refusal or referral).

        Called on the engine's thread, after the event is recorded and before the result screen
        is shown. Returns a function that ends the subscription.
        """
        with self._listeners_lock:
            self._finished_listeners.append(listener)
        return lambda: self._remove(self._finished_listeners, listener)

    def _remove(self, listeners: list[Any], listener: Any) -> None:
        with self._listeners_lock:
            if listener in listeners:
                listeners.remove(listener)

    @property
    def faults(self) -> dict[str, str]:
        """Active faults: component -> code."""
        return dict(self._faults)

    def state(self) -> dict[str, Any]:
        """Facts for the device's retained state message (`summary` and `alerts` are shown by
        `backoffice watch`)."""
        issued = len(self._book.numbers(self._today()))
        return {
            "summary": status.summary(issued, self._screen.phase),
            "alerts": status.alerts(self._faults, self.out_of_service_reason),
            "phase": self._screen.phase.value,
            "tickets_today": issued,
            "office_full": self.occupancy.is_full(self._clock.now()),
        }

    # -- intents (any thread) -----------------------------------------------------------------

    def scan(self, text: str) -> None:
        """A QR text was read (queued; handled on the next tick)."""
        self._commands.put(lambda: self._handle_text(text, typed=False))

    def enter_code(self, code: str) -> None:
        """A booking code was typed (looked up online; queued)."""
        self._commands.put(lambda: self._handle_text(code, typed=True))

    def start_walkin(self) -> None:
        """The participant has no booking (queued)."""
        self._commands.put(self._begin_walkin)

    def choose_service(self, service: Service) -> None:
        """The walk-in picked a programme (queued)."""
        self._commands.put(lambda: self._chose(service))

    def cancel(self) -> None:
        """Back to the welcome screen (queued). A finished check-in is not undone."""
        self._commands.put(self._go_idle)

    # -- the engine's thread ------------------------------------------------------------------

    @property
    def accepts_frames(self) -> bool:
        """Whether a scanned QR would be acted on now (the loop skips decoding otherwise)."""
        return flow.accepts_scan(self._screen.phase)

    def read_codes(self, texts: Sequence[str]) -> None:
        """Every text decoded from one camera frame (engine thread): act on at most one.

        Booking tokens win over other codes in the frame (`kiosk.domain.scanning`); a code
        acted on within `repeat_ignore_s` is not acted on again.
        """
        if not texts or not self.accepts_frames:
            return
        recent = self._recent.within(self._clock.monotonic(), self._repeat_s)
        text = scanning.pick(texts, recent)
        if text is not None:
            self._guarded(lambda: self._handle_text(text, typed=False))

    def tick(self) -> None:
        """Run queued intents and advance timers (engine thread, every ~20 ms)."""
        if not self._started:
            self._started = True
            self._guarded(self._settle_interrupted)
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                break
            self._guarded(command)
        now = self._clock.monotonic()
        if now - self._clock_checked >= CLOCK_CHECK_S:
            self._check_clock(now)
        if self._storage_retry_at is not None and now >= self._storage_retry_at:
            self._try_storage_again(now)
        current = self._current
        if current is not None and current.gate is not None:
            gate = current.gate
            self._guarded(lambda: self._step_gate(current, gate, now))
        elif self._screen_until is not None and now >= self._screen_until:
            self._go_idle()

    def settle(self, max_steps: int = 1000) -> Screen:
        """Tick until nothing more happens without time passing (zero-delay simulations)."""
        for _ in range(max_steps):
            before = (self._screen, self._gate_token())
            self.tick()
            gate = self._current.gate if self._current else None
            if gate is not None and gate.due(self._clock.monotonic()):
                continue
            if self._commands.empty() and before == (self._screen, self._gate_token()):
                break
        return self._screen

    def wake_at(self) -> float | None:
        """The monotonic time of the next timer (gate sample, rest end, screen timeout)."""
        if self._current is not None and self._current.gate is not None:
            return self._current.gate.wake_at()
        return self._screen_until

    def refresh_idle(self) -> None:
        """Re-show the welcome screen (e.g. after an occupancy change; queued)."""
        self._commands.put(lambda: self._go_idle() if self._screen.phase is Phase.IDLE else None)

    def recover(self) -> None:
        """An officer cleared the faults at the kiosk (the touchscreen's staff PIN): try again
        without a reboot (queued). Storage that is still broken stops the kiosk again at its
        next write."""
        self._commands.put(self._recover)

    def camera_fault(self, code: str | None, detail: str = "") -> None:
        """Report the camera failing (`code`) or working again (None)."""
        self._set_fault("camera", code, detail)

    # -- flow ---------------------------------------------------------------------------------

    def _gate_token(self) -> tuple[Any, ...]:
        gate = self._current.gate if self._current else None
        if gate is None:
            return ()
        return (gate.phase, gate.attempts, gate.present, gate.wake_at(), gate.result)

    def _handle_text(self, text: str, *, typed: bool) -> None:
        if not flow.accepts_scan(self._screen.phase):
            return
        if not self._recent.first_time(text, self._clock.monotonic(), self._repeat_s):
            return
        wall = self._clock.now()
        lookup, offline = self._lookup, "lookup_offline"
        if not typed:
            verdict = self._verifier.verify(text, wall)
            if verdict.reason != "unknown_key" or self._refresh is None:
                self._after_verdict(verdict)
                return
            # A key this kiosk does not hold yet (a rotation it has not synced): the trust list
            # is fetched off the engine's thread, then the token verified again.
            lookup, offline = self._refresh, "key_unknown_offline"
        elif lookup is None:
            self._after_verdict(reason_verdict(offline))
            return
        # The lookup goes over the network (seconds, with retries): never on the engine's thread.
        self._show(screens.checking_code(), None)

        def work() -> None:
            try:
                verdict = lookup(text, wall)
            except Exception:  # the lookup must always answer the participant
                logger.exception("booking code lookup failed")
                verdict = reason_verdict(offline)
            self._commands.put(lambda: self._after_lookup(verdict))

        self._background(work)

    def _after_lookup(self, verdict: Verdict) -> None:
        if self._screen.phase is Phase.CHECKING:  # not if the participant cancelled meanwhile
            self._after_verdict(verdict)

    def _after_verdict(self, verdict: Verdict) -> None:
        decision = flow.after_verdict(verdict)
        booking = verdict.booking
        if decision is flow.AfterVerdict.RESUME and booking is not None:
            if self._resume(booking):
                return
            decision = flow.AfterVerdict.REFUSE
        if decision is flow.AfterVerdict.MEASURE and booking is not None:
            self._begin_measuring(flow.booking_checkin(uuid.uuid4().hex, booking))
            return
        self._end(flow.refusal(verdict))

    def _resume(self, booking: Booking) -> bool:
        """Finish a check-in of `booking` this kiosk began before it stopped; False if none."""
        booked = self._book.for_booking(booking.booking_id)
        claimed_here = False
        if booked is None:
            record = self._ledger.record(booking.booking_id)
            claimed_here = (
                record is not None and record.local and record.kiosk_id == self.settings.kiosk_id
            )
        action = flow.resume(booked, claimed_here=claimed_here)
        if action is flow.Resume.DELIVER and booked is not None:
            logger.info("check-in %s resumed: numbered, ticket not delivered", booked.checkin_id)
            temperature, notes = flow.resumed_temperature(booked)
            checkin = flow.booking_checkin(booked.checkin_id, booking, claimed=True)
            self._issue(checkin, temperature, notes)
        elif action is flow.Resume.SETTLE and booked is not None:
            # Left printing by a stop and not settled at the start (the outbox failed then).
            logger.info("check-in %s resumed: stopped while printing", booked.checkin_id)
            self._settle(booked)
            self._end(flow.already_claimed(booking, booked.checkin_id, number=booked.number))
        elif action is flow.Resume.SHOW and booked is not None:
            # It has its ticket (and its ticket event): show the number again, never print a
            # second ticket.
            self._end(flow.already_claimed(booking, booked.checkin_id, number=booked.number))
        elif action is flow.Resume.MEASURE:
            logger.info("check-in of a booking claimed here without a number resumed")
            self._begin_measuring(flow.booking_checkin(uuid.uuid4().hex, booking, claimed=True))
        return action is not flow.Resume.NONE

    @property
    def _repeat_s(self) -> float:
        return self.settings.repeat_ignore_s

    def _begin_walkin(self) -> None:
        if not flow.accepts_scan(self._screen.phase):
            return
        self._current = flow.walkin_checkin(uuid.uuid4().hex)
        self._show(screens.choose_service(self._current.checkin_id), self.settings.choice_timeout_s)

    def _chose(self, service: Service) -> None:
        current = self._current
        if self._screen.phase is not Phase.CHOOSE_SERVICE or current is None:
            return
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}; choose one of {', '.join(SERVICES)}")
        current.service = service
        self._begin_measuring(current)

    def _begin_measuring(self, checkin: Checkin) -> None:
        gate = checkin.gate = TemperatureGate(self.settings.policy, self._clock.monotonic())
        self._current = checkin
        self._show(flow.gate_screen(checkin, gate), None)

    def _step_gate(self, checkin: Checkin, gate: TemperatureGate, now: float) -> None:
        result: GateResult | None
        if gate.due(now):
            try:
                reading = self._thermometer.read()
            except ThermometerError as exc:
                self._set_fault("thermometer", exc.code, str(exc))
                result = gate.feed_fault(exc.code, now)
            else:
                self._set_fault("thermometer", None)
                result = gate.feed(reading, now)
        else:
            result = gate.poll(now)
        if result is None:
            screen = flow.gate_screen(checkin, gate)
            if screen != self._screen:
                self._show(screen, None)
            return
        checkin.gate = None
        self._after_gate(checkin, result)

    def _after_gate(self, checkin: Checkin, result: GateResult) -> None:
        settings = self.settings
        self._record(
            *flow.temperature_event(
                checkin,
                result,
                threshold_c=settings.policy.threshold_c,
                store_reading=settings.store_readings,
                link_booking=settings.link_temperature,
            )
        )
        decision = flow.after_gate(result.outcome, settings.on_unavailable)
        if decision is flow.AfterGate.ISSUE:
            self._issue(checkin, "passed")
        elif decision is flow.AfterGate.ISSUE_STAFF_CHECK:
            self._issue(checkin, "staff_check", notes=(STAFF_CHECK_NOTE,))
        elif decision is flow.AfterGate.SEND_TO_OFFICER:
            self._end(flow.temperature_unavailable(checkin))
        else:
            self._current = None
            if settings.referral_slip:
                self._print_referral_slip(reason="temperature")
            self._end(flow.referral(checkin, result))

    def _issue(
        self,
        checkin: Checkin,
        temperature: flow.TemperatureNote,
        notes: tuple[Bilingual, ...] = (),
    ) -> None:
        settings = self.settings
        booking = checkin.booking
        service = checkin.service
        if service is None:
            raise ValueError("a check-in is numbered only once its service is known")
        wall = self._clock.now()
        day = self._today()
        wait_outside = self.occupancy.is_full(wall)
        letter = settings.class_letters[checkin.klass]
        try:
            if (
                booking is not None
                and not checkin.claimed
                and not self._ledger.claim(booking.booking_id, settings.kiosk_id, wall)
            ):
                self._end(flow.already_claimed(booking, checkin.checkin_id))
                return
            issued = self._book.issue(
                checkin.checkin_id,
                day=day,
                service=service,
                klass=checkin.klass,
                number_of=lambda seq: format_number(service, letter, settings.kiosk_code, seq),
                at=wall,
                booking_id=checkin.booking_id,
                temperature=temperature,
            )
            if not issued.reported:
                # Marked reported together with "printing" in `_deliver`: one durable write less
                # per check-in. A stop in between records it again on resume, under the same
                # event id (derived from the check-in), so it stays one event.
                type_name, payload = flow.accepted_event(
                    checkin, issued.number, wait_outside=wait_outside, temperature=temperature
                )
                event_id = _event_id_of(issued.checkin_id, issued.issued_at, type_name)
                self._events.record(type_name, payload, event_id=event_id)
        except UNRECORDABLE as exc:
            self._out_of_service(exc)
            return
        ticket = flow.ticket_for(
            checkin,
            issued.number,
            branch_name=settings.branch_name,
            issued_at=wall,
            zone=settings.zone,
            track_url=settings.track_url,
            people_ahead=self._people_ahead(service, checkin.klass, day, wall),
            wait_outside=wait_outside,
            notes=notes,
            clock_synced=self._clock.synced(),  # the same state the events' envelopes carry
        )
        printed = self._deliver(ticket, issued, notes)
        self._current = None
        self._finish(CheckinResult(checkin.checkin_id, Phase.TICKET, issued.number, printed))
        self._show(screens.ticket(ticket, printed=printed, notes=notes), settings.ticket_screen_s)

    def _deliver(self, ticket: Ticket, issued: Issued, notes: tuple[Bilingual, ...] = ()) -> bool:
        """Print the ticket once; on paper out or offline, show it on screen only.

        Its ticket event is recorded (under its one id) before the book marks it delivered: a
        stop in between leaves it "printing" with its event recorded, and the resume's settled
        event has the same id (one event); a delivered ticket always has its event.
        """
        delivery = issued.delivery
        if delivery is not None or not self._book.begin_printing(ticket.checkin_id):
            return delivery == "printed"  # this check-in already has its ticket: never a second
        paper = self._printer.status()
        print_fault: str | None = None
        detail = "" if flow.should_print(paper.value) else f"printer reports {paper.value}"
        if flow.should_print(paper.value):
            self._show(screens.printing(ticket, notes=notes), None)
            try:
                self._printer.print_elements(layout(ticket, columns=self.settings.columns))
            except PrinterError as exc:
                print_fault, detail = exc.code, str(exc)
            except Exception as exc:  # a driver bug must not cost the participant their number
                logger.exception("printing ticket %s failed", ticket.number)
                print_fault, detail = "print_failed", f"{type(exc).__name__}: {exc}"
        how, fault_code = flow.delivery_of(paper.value, print_fault)
        self._set_fault("printer", flow.printer_fault(paper.value, fault_code), detail)
        type_name, payload = flow.ticket_event(ticket, how, paper.value, fault_code)
        event_id = _event_id_of(issued.checkin_id, issued.issued_at, type_name)
        self._events.record(type_name, payload, event_id=event_id)
        self._book.mark_delivered(ticket.checkin_id, how)
        return how == "printed"

    def _settle_interrupted(self) -> None:
        """Settle every ticket a stop left being delivered (at the first tick): a walk-in's
        comes back to no kiosk, and its ticket event must not wait for it. Storage that fails
        here is said and left for the first check-in to meet (out of service then); what is
        not settled now is settled when its booking is shown again, or at the next start."""
        try:
            for booked in self._book.printing():
                logger.warning(
                    "ticket %s was being delivered when the kiosk stopped: settled as shown on "
                    "screen",
                    booked.number,
                )
                self._settle(booked)
        except UNRECORDABLE as exc:
            logger.error("cannot settle the tickets a stop left printing: %s", exc)

    def _settle(self, booked: BookedCheckin) -> None:
        """A ticket left printing: whether it came out is unknown, so it is never printed
        again; its event was recorded or not, so it is recorded under the id it had (one event
        either way), and only then is the ticket marked shown."""
        type_name, payload = flow.interrupted_ticket_event(booked)
        event_id = _event_id_of(booked.checkin_id, booked.issued_at, type_name)
        self._events.record(type_name, payload, event_id=event_id)
        self._book.mark_delivered(booked.checkin_id, "screen_only")

    def _print_referral_slip(self, reason: str) -> None:
        if not flow.should_print(self._printer.status().value):
            return
        slip = flow.referral_slip(
            branch_name=self.settings.branch_name,
            referred_at=self._clock.now(),
            zone=self.settings.zone,
            reason=reason,
            clock_synced=self._clock.synced(),
        )
        try:
            self._printer.print_elements(referral_layout(slip, columns=self.settings.columns))
        except PrinterError as exc:
            self._set_fault("printer", exc.code, str(exc))

    def _people_ahead(
        self, service: str, klass: PriorityClass, day: str, wall: datetime
    ) -> int | None:
        report = self.occupancy.current(wall)
        published = report.waiting.get(service) if report is not None else None
        counted: int | None = None
        window = self.settings.people_ahead_window_min
        if published is None and window > 0:
            ahead = served_before_or_with(klass)
            since = wall - timedelta(minutes=window)
            counted = self._book.count_since(day=day, service=service, classes=ahead, since=since)
        return flow.people_ahead(published, counted)

    def _guarded(self, step: Callable[[], None]) -> None:
        try:
            step()
        except UNRECORDABLE as exc:
            self._out_of_service(exc)
        except Exception:  # a flow step is a loop boundary: never leave the kiosk stuck mid-flow
            logger.exception("check-in step failed; back to the welcome screen")
            self._current = None
            self._go_idle()

    def _out_of_service(self, exc: Exception) -> None:
        """Nothing durable can be written: checking people in would lose them."""
        logger.error("cannot store check-ins (%s); kiosk out of service until it can", exc)
        self._current = None
        if not self.out_of_service_reason:
            self._storage_since = self._clock.now()
        self.out_of_service_reason = f"storage: {exc}"
        self._storage_retry_at = self._clock.monotonic() + STORAGE_RETRY_S
        self._show(screens.out_of_service("storage", STORAGE_BROKEN), None)

    def _try_storage_again(self, now: float) -> None:
        """Back in service by itself once the fault can be recorded, begun and cleared (the
        first events written since storage failed)."""
        detail = f"out of service since {self._storage_since:%Y-%m-%d %H:%M} UTC"
        try:
            for type_name, payload in flow.storage_fault_overcome(detail):
                self._record(type_name, payload)
        except UNRECORDABLE:
            self._storage_retry_at = now + STORAGE_RETRY_S
            return
        logger.warning("storage works again: kiosk back in service (%s)", detail)
        self._storage_retry_at = None
        self.out_of_service_reason = ""
        self._current = None
        self._go_idle()

    def _recover(self) -> None:
        logger.warning(
            "faults cleared by an officer at the kiosk (out of service: %s; faults: %s)",
            self.out_of_service_reason or "no",
            ", ".join(sorted(self._faults)) or "none",
        )
        self.out_of_service_reason = ""
        self._storage_retry_at = None
        for component in sorted(self._faults):
            self._set_fault(component, None)
        self._current = None
        self._go_idle()

    def _go_idle(self) -> None:
        if self.out_of_service_reason:
            return  # stays out of service: an officer restarts it once storage is fixed
        if self._current is not None and self._current.gate is not None:
            logger.info("check-in cancelled during the temperature gate")
        self._current = None
        wall = self._clock.now()
        out_of_paper = flow.out_of_paper(self._faults.get("printer"))
        age = self._data_age() if self._data_age is not None else None
        if isinstance(age, tuple):
            age = Bilingual(*age)
        full = self.occupancy.is_full(wall)
        self._show(screens.idle(full=full, out_of_paper=out_of_paper, data_age=age), None)

    def _show(self, screen: Screen, seconds: float | None) -> None:
        """Publish `screen`; with `seconds`, it ends by itself then (back to the welcome)."""
        if seconds is not None:
            self._screen_until = self._clock.monotonic() + seconds
            screen = screen.until(self._screen_until)
        else:
            self._screen_until = None
        self._publish(replace(screen, clock_unsynced=self._clock_unsynced))

    def _publish(self, screen: Screen) -> None:
        if screen == self._screen:
            return
        with self._listeners_lock:
            self._screen = screen
            for listener in list(self._listeners):
                self._call(listener, screen)

    def _check_clock(self, now: float) -> None:
        """Whether the clock is synchronised is a fact on every screen (staff check dates)."""
        self._clock_checked = now
        unsynced = not self._clock.synced()
        if unsynced != self._clock_unsynced:
            self._clock_unsynced = unsynced
            self._publish(replace(self._screen, clock_unsynced=unsynced))

    @staticmethod
    def _call(listener: Callable[[Any], None], value: object) -> None:
        try:
            listener(value)
        except Exception:  # a broken display must not stop check-ins
            logger.exception("listener failed")

    def _end(self, ending: Ending) -> None:
        """A check-in ends without a ticket: its events, its announcement, its screen."""
        self._current = None
        for type_name, payload in ending.events:
            self._record(type_name, payload)
        self._finish(ending.result)
        self._show(ending.screen, self._hold_s(ending.hold))

    def _hold_s(self, hold: Hold) -> float:
        settings = self.settings
        return flow.hold_seconds(
            hold,
            ticket_s=settings.ticket_screen_s,
            choice_s=settings.choice_timeout_s,
            message_s=settings.message_screen_s,
        )

    def _finish(self, outcome: CheckinResult) -> None:
        with self._listeners_lock:
            listeners = list(self._finished_listeners)
        for listener in listeners:
            self._call(listener, outcome)

    def _today(self) -> str:
        """The day numbers count in (`numbering_day`; the book is read only while the clock
        is not synchronised)."""
        last_day = None if self._clock.synced() else self._book.last_day()
        return numbering_day(self._clock.now(), self.settings.zone, last_day=last_day)

    def _record(self, type_name: str, payload: dict[str, Any]) -> None:
        self._events.record(type_name, payload)

    def _set_fault(self, component: str, code: str | None, detail: str = "") -> None:
        """Record a fault event when a component's fault begins, changes or clears."""
        previous = self._faults.get(component)
        if previous == code:
            return
        try:
            for type_name, payload in flow.fault_change(component, previous, code, detail):
                self._record(type_name, payload)
        except StorageError as exc:
            logger.error("cannot record %s fault %s: %s", component, code, exc)
        if code is None:
            self._faults.pop(component, None)
            logger.info("%s fault %s cleared", component, previous)
        else:
            self._faults[component] = code
            logger.warning("%s fault: %s (%s)", component, code, detail)
