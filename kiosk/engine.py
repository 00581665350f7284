"""The check-in engine: scan → verify → temperature → durable check-in → ticket, without a UI.

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
   printer is out of paper or offline the number is shown on screen and a fault is recorded.

A kiosk that stops anywhere in 2-5 loses nobody: when the participant shows the QR again, a
booking claimed here without a number is measured and numbered, a number not yet delivered is
printed, and a ticket that was (or may have been) printed is shown on screen, never printed twice.
If the outbox or a store cannot be written, the kiosk goes out of service (no unrecorded ticket).
A typed booking code is looked up online off the engine's thread (`background`).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, Literal

from kiosk.booking import Booking, Service, Verdict
from kiosk.booking.reasons import verdict as reason_verdict
from kiosk.domain import events, scanning, screens
from kiosk.domain.capacity import OccupancyView
from kiosk.domain.screens import STAFF_CHECK_NOTE, STORAGE_BROKEN, Bilingual, Phase, Screen
from kiosk.domain.temperature import GateResult, Outcome, TemperatureGate, TemperaturePolicy
from kiosk.domain.tickets import (
    PRIORITY_ORDER,
    PriorityClass,
    Ticket,
    format_number,
    layout,
    priority_rank,
    referral_layout,
)
from kiosk.errors import PrinterError, ThermometerError
from kiosk.ports import EventSink, Ledger, PaperStatus, Thermometer, TicketPrinter, Verifier
from kiosk.store import TicketBook
from uplink import Clock, OutboxFull
from uplink.booking.model import SERVICES

logger = logging.getLogger(__name__)

ScreenListener = Callable[[Screen], None]
CodeLookup = Callable[[str, datetime], Verdict]
Unsubscribe = Callable[[], None]
# Phases in which a new QR starts a new check-in (the welcome screen and result screens).
SCAN_PHASES = frozenset({Phase.IDLE, Phase.REFUSED, Phase.REFERRED, Phase.TICKET})


# What an operator reads in `backoffice watch` for each phase (Bahasa Indonesia).
_PHASE_ID = {
    Phase.IDLE: "siaga",
    Phase.CHOOSE_SERVICE: "memilih layanan",
    Phase.MEASURING: "mengukur suhu",
    Phase.RESTING: "istirahat sebelum ukur ulang",
    Phase.PRINTING: "mencetak tiket",
    Phase.REFUSED: "booking ditolak",
    Phase.REFERRED: "dirujuk",
    Phase.TICKET: "tiket diberikan",
    Phase.CHECKING: "memeriksa kode",
    Phase.OUT_OF_SERVICE: "TIDAK BEROPERASI",
}


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


@dataclass
class _Checkin:
    checkin_id: str
    kind: events.Kind
    klass: PriorityClass
    service: Service | None
    booking: Booking | None = None
    gate: TemperatureGate | None = None
    claimed: bool = False  # the ledger already holds this kiosk's claim (resumed after a stop)


@dataclass(frozen=True)
class CheckinResult:
    """What one finished check-in came to (for simulations, the CLI and benchmarks)."""

    checkin_id: str
    phase: Phase
    ticket_number: str = ""
    printed: bool = False
    reason: str = ""


FinishedListener = Callable[[CheckinResult], None]


def _in_thread(job: Callable[[], None]) -> None:
    threading.Thread(target=job, name="kiosk-lookup", daemon=True).start()


def _class_of(booking: Booking) -> PriorityClass:
    return "collective" if booking.channel == "collective" else "online"


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
        lookup: CodeLookup | None = None,
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
        self._data_age = data_age
        self._background = background or _in_thread
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._listeners: list[ScreenListener] = []
        self._finished_listeners: list[FinishedListener] = []
        # Held while listeners are called, so a new subscriber never sees screens out of order.
        self._listeners_lock = threading.RLock()
        self._current: _Checkin | None = None
        self._screen = screens.idle(full=False)
        self._screen_until: float | None = None
        self._recent: dict[str, float] = {}
        self._faults: dict[str, str] = {}  # component -> active fault code
        self.out_of_service_reason = ""

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
        day = self._today()
        issued = len(self._book.numbers(day))
        alerts = [f"{component}: {code}" for component, code in sorted(self._faults.items())]
        if self.out_of_service_reason:
            alerts.append(f"out of service: {self.out_of_service_reason}")
        phase = self._screen.phase
        return {
            "summary": f"{issued} tiket hari ini · {_PHASE_ID[phase]} / {issued} tickets today",
            "alerts": alerts,
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
        return self._screen.phase in SCAN_PHASES

    def read_codes(self, texts: Sequence[str]) -> None:
        """Every text decoded from one camera frame (engine thread): act on at most one.

        Booking tokens win over other codes in the frame (`kiosk.domain.scanning`); a code
        acted on within `repeat_ignore_s` is not acted on again.
        """
        if not texts or not self.accepts_frames:
            return
        now = self._clock.monotonic()
        self._recent = {t: at for t, at in self._recent.items() if now - at < self._repeat_s}
        text = scanning.pick(texts, self._recent)
        if text is not None:
            self._guarded(lambda: self._handle_text(text, typed=False))

    def tick(self) -> None:
        """Run queued intents and advance timers (engine thread, every ~20 ms)."""
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                break
            self._guarded(command)
        now = self._clock.monotonic()
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
        if self._screen.phase not in SCAN_PHASES:
            return
        now = self._clock.monotonic()
        self._recent = {t: at for t, at in self._recent.items() if now - at < self._repeat_s}
        if text in self._recent:
            return
        self._recent[text] = now
        wall = self._clock.now()
        if not typed:
            self._after_verdict(self._verifier.verify(text, wall))
            return
        lookup = self._lookup
        if lookup is None:
            self._after_verdict(reason_verdict("lookup_offline"))
            return
        # The lookup goes over the network (seconds, with retries): never on the engine's thread.
        self._show(screens.checking_code(), None)

        def work() -> None:
            try:
                verdict = lookup(text, wall)
            except Exception:  # the lookup must always answer the participant
                logger.exception("booking code lookup failed")
                verdict = reason_verdict("lookup_offline")
            self._commands.put(lambda: self._after_lookup(verdict))

        self._background(work)

    def _after_lookup(self, verdict: Verdict) -> None:
        if self._screen.phase is Phase.CHECKING:  # not if the participant cancelled meanwhile
            self._after_verdict(verdict)

    def _after_verdict(self, verdict: Verdict) -> None:
        booking = verdict.booking
        if verdict.reason == "already_checked_in" and booking is not None:
            if self._resume(booking):
                return
        if not verdict.accepted or booking is None:
            self._record(
                events.REFUSED,
                events.refused(
                    reason=verdict.reason,
                    booking_id=booking.booking_id if booking else None,
                    service=booking.service if booking else None,
                ),
            )
            self._finish(CheckinResult("", Phase.REFUSED, reason=verdict.reason))
            self._show(screens.refused(verdict), self.settings.message_screen_s)
            return
        checkin = _Checkin(
            uuid.uuid4().hex, "booking", _class_of(booking), booking.service, booking
        )
        self._begin_measuring(checkin)

    def _resume(self, booking: Booking) -> bool:
        """Finish a check-in of `booking` this kiosk began before it stopped; False if none."""
        booked = self._book.for_booking(booking.booking_id)
        klass = _class_of(booking)
        if booked is not None and booked.delivery is None:
            logger.info("check-in %s resumed: numbered, ticket not delivered", booked.checkin_id)
            temperature: Literal["passed", "staff_check"] = (
                "staff_check" if booked.temperature == "staff_check" else "passed"
            )
            notes = (STAFF_CHECK_NOTE,) if temperature == "staff_check" else ()
            checkin = _Checkin(
                booked.checkin_id, "booking", klass, booking.service, booking, claimed=True
            )
            self._issue(checkin, temperature, notes)
            return True
        if booked is not None:
            # It has its ticket (or was printing when the kiosk stopped): show the number again,
            # never print a second ticket.
            self._record(
                events.REFUSED,
                events.refused(
                    reason="already_checked_in",
                    booking_id=booking.booking_id,
                    service=booking.service,
                ),
            )
            self._finish(
                CheckinResult(
                    booked.checkin_id, Phase.REFUSED, booked.number, reason="already_checked_in"
                )
            )
            self._show(
                screens.already_claimed(booked.checkin_id, number=booked.number),
                self.settings.message_screen_s,
            )
            return True
        record = self._ledger.record(booking.booking_id)
        if record is not None and record.local and record.kiosk_id == self.settings.kiosk_id:
            logger.info("check-in of a booking claimed here without a number resumed")
            checkin = _Checkin(
                uuid.uuid4().hex, "booking", klass, booking.service, booking, claimed=True
            )
            self._begin_measuring(checkin)
            return True
        return False

    @property
    def _repeat_s(self) -> float:
        return self.settings.repeat_ignore_s

    def _begin_walkin(self) -> None:
        if self._screen.phase not in SCAN_PHASES:
            return
        self._current = _Checkin(uuid.uuid4().hex, "walkin", "walkin", None)
        self._show(screens.choose_service(self._current.checkin_id), self.settings.choice_timeout_s)

    def _chose(self, service: Service) -> None:
        current = self._current
        if self._screen.phase is not Phase.CHOOSE_SERVICE or current is None:
            return
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}; choose one of {', '.join(SERVICES)}")
        current.service = service
        self._begin_measuring(current)

    def _begin_measuring(self, checkin: _Checkin) -> None:
        now = self._clock.monotonic()
        gate = checkin.gate = TemperatureGate(self.settings.policy, now)
        self._current = checkin
        self._show(
            screens.measuring(
                checkin.checkin_id, present=False, attempt=1, deadline=gate.deadline()
            ),
            None,
        )

    def _step_gate(self, checkin: _Checkin, gate: TemperatureGate, now: float) -> None:
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
            if gate.phase.value == "resting":
                if self._screen.phase is not Phase.RESTING:
                    self._show(
                        screens.resting(
                            checkin.checkin_id, attempt=gate.attempts, deadline=gate.deadline()
                        ),
                        None,
                    )
            else:
                screen = screens.measuring(
                    checkin.checkin_id,
                    present=gate.present,
                    attempt=gate.attempts,
                    deadline=gate.deadline(),
                )
                if screen != self._screen:
                    self._show(screen, None)
            return
        checkin.gate = None
        self._after_gate(checkin, result)

    def _after_gate(self, checkin: _Checkin, result: GateResult) -> None:
        settings = self.settings
        booking_id = checkin.booking.booking_id if checkin.booking else None
        self._record(
            events.TEMPERATURE,
            events.temperature(
                result,
                kind=checkin.kind,
                threshold_c=settings.policy.threshold_c,
                store_reading=settings.store_readings,
                booking_id=booking_id if settings.link_temperature else None,
            ),
        )
        if result.outcome is Outcome.PASSED:
            self._issue(checkin, "passed")
        elif result.outcome is Outcome.UNAVAILABLE and settings.on_unavailable == "staff_check":
            self._issue(checkin, "staff_check", notes=(STAFF_CHECK_NOTE,))
        elif result.outcome is Outcome.UNAVAILABLE:
            self._current = None
            self._finish(
                CheckinResult(checkin.checkin_id, Phase.REFUSED, reason="temperature_unavailable")
            )
            self._show(
                screens.temperature_unavailable(checkin.checkin_id), settings.message_screen_s
            )
        else:
            self._current = None
            if settings.referral_slip:
                self._print_referral_slip()
            self._finish(CheckinResult(checkin.checkin_id, Phase.REFERRED, reason="temperature"))
            self._show(screens.referred(checkin.checkin_id, result), settings.message_screen_s)

    def _issue(
        self,
        checkin: _Checkin,
        temperature: Literal["passed", "staff_check"],
        notes: tuple[Bilingual, ...] = (),
    ) -> None:
        settings = self.settings
        booking = checkin.booking
        service = checkin.service
        assert service is not None  # noqa: S101 - set before measuring starts
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
                self._current = None
                self._record(
                    events.REFUSED,
                    events.refused(
                        reason="already_checked_in",
                        booking_id=booking.booking_id,
                        service=booking.service,
                    ),
                )
                self._finish(
                    CheckinResult(checkin.checkin_id, Phase.REFUSED, reason="already_checked_in")
                )
                self._show(screens.already_claimed(checkin.checkin_id), settings.message_screen_s)
                return
            issued = self._book.issue(
                checkin.checkin_id,
                day=day,
                service=service,
                klass=checkin.klass,
                number_of=lambda seq: format_number(service, letter, settings.kiosk_code, seq),
                at=wall,
                booking_id=booking.booking_id if booking else None,
                temperature=temperature,
            )
            if not issued.reported:
                self._report_accepted(checkin, issued.number, wait_outside, temperature)
        except (OutboxFull, sqlite3.Error) as exc:
            self._out_of_service(exc)
            return
        ref = booking.booking_id if booking else checkin.checkin_id
        ticket = Ticket(
            checkin_id=checkin.checkin_id,
            number=issued.number,
            service=service,
            klass=checkin.klass,
            branch_name=settings.branch_name,
            issued_at=wall.astimezone(settings.zone),
            track_ref=ref,
            track_url=settings.track_url.format(ref=ref),
            masked_name=booking.masked_name if booking else None,
            booking_id=booking.booking_id if booking else None,
            party_size=booking.party_size if booking else 1,
            people_ahead=self._people_ahead(service, checkin.klass, day, wall),
            wait_outside=wait_outside,
            notes=tuple(note.id for note in notes),  # the paper is in Bahasa Indonesia
        )
        printed = self._deliver(ticket, issued.delivery, notes)
        self._current = None
        self._finish(CheckinResult(checkin.checkin_id, Phase.TICKET, issued.number, printed))
        self._show(screens.ticket(ticket, printed=printed, notes=notes), settings.ticket_screen_s)

    def _report_accepted(
        self,
        checkin: _Checkin,
        number: str,
        wait_outside: bool,
        temperature: Literal["passed", "staff_check"],
    ) -> None:
        booking = checkin.booking
        assert checkin.service is not None  # noqa: S101 - set before measuring starts
        self._record(
            events.ACCEPTED,
            events.accepted(
                checkin_id=checkin.checkin_id,
                kind=checkin.kind,
                klass=checkin.klass,
                service=checkin.service,
                ticket_number=number,
                party_size=booking.party_size if booking else 1,
                wait_outside=wait_outside,
                temperature=temperature,
                booking_id=booking.booking_id if booking else None,
            ),
        )
        # Marked reported together with "printing" in `_deliver`: one durable write less per
        # check-in; a stop in between only re-sends this event (same checkin_id) on resume.

    def _deliver(
        self, ticket: Ticket, delivery: str | None, notes: tuple[Bilingual, ...] = ()
    ) -> bool:
        """Print the ticket once; on paper out or offline, show it on screen only."""
        if delivery is not None or not self._book.begin_printing(ticket.checkin_id):
            return delivery == "printed"  # this check-in already has its ticket: never a second
        status = self._printer.status()
        fault_code: str | None = None
        if status in (PaperStatus.OUT, PaperStatus.OFFLINE):
            fault_code = status.value
        else:
            self._show(screens.printing(ticket, notes=notes), None)
            try:
                self._printer.print_elements(layout(ticket, columns=self.settings.columns))
            except PrinterError as exc:
                fault_code = exc.code
                self._set_fault("printer", exc.code, str(exc))
            except Exception as exc:  # a driver bug must not cost the participant their number
                logger.exception("printing ticket %s failed", ticket.number)
                fault_code = "print_failed"
                self._set_fault("printer", fault_code, f"{type(exc).__name__}: {exc}")
        if fault_code is None:
            self._set_fault("printer", "paper_low" if status is PaperStatus.LOW else None)
        elif status in (PaperStatus.OUT, PaperStatus.OFFLINE):
            self._set_fault("printer", fault_code, f"printer reports {status.value}")
        how: Literal["printed", "screen_only"] = "printed" if fault_code is None else "screen_only"
        self._book.mark_delivered(ticket.checkin_id, how)
        self._record(
            events.TICKET,
            events.ticket(
                checkin_id=ticket.checkin_id,
                ticket_number=ticket.number,
                delivery=how,
                printer_status=status.value,
                fault_code=fault_code,
            ),
        )
        return how == "printed"

    def _print_referral_slip(self) -> None:
        if self._printer.status() in (PaperStatus.OUT, PaperStatus.OFFLINE):
            return
        try:
            self._printer.print_elements(
                referral_layout(screens.referral_slip_lines(), columns=self.settings.columns)
            )
        except PrinterError as exc:
            self._set_fault("printer", exc.code, str(exc))

    def _people_ahead(
        self, service: str, klass: PriorityClass, day: str, wall: datetime
    ) -> int | None:
        report = self.occupancy.current(wall)
        if report is not None and service in report.waiting:
            return report.waiting[service]
        window = self.settings.people_ahead_window_min
        if window <= 0:
            return None
        ahead_classes = [k for k in PRIORITY_ORDER if priority_rank(k) <= priority_rank(klass)]
        count = self._book.count_since(
            day=day, service=service, classes=ahead_classes, since=wall - timedelta(minutes=window)
        )
        return max(0, count - 1)  # minus this participant's own ticket

    def _guarded(self, step: Callable[[], None]) -> None:
        try:
            step()
        except (OutboxFull, sqlite3.Error) as exc:
            self._out_of_service(exc)
        except Exception:  # a flow step is a loop boundary: never leave the kiosk stuck mid-flow
            logger.exception("check-in step failed; back to the welcome screen")
            self._current = None
            self._go_idle()

    def _out_of_service(self, exc: Exception) -> None:
        """Nothing durable can be written: checking people in would lose them."""
        logger.error("cannot store check-ins (%s); kiosk out of service until restarted", exc)
        self._current = None
        self.out_of_service_reason = f"storage: {exc}"
        self._show(screens.out_of_service("storage", STORAGE_BROKEN), None)

    def _go_idle(self) -> None:
        if self.out_of_service_reason:
            return  # stays out of service: an officer restarts it once storage is fixed
        if self._current is not None and self._current.gate is not None:
            logger.info("check-in cancelled during the temperature gate")
        self._current = None
        wall = self._clock.now()
        out_of_paper = self._faults.get("printer") in ("paper_out", "offline")
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
        if screen == self._screen:
            return
        with self._listeners_lock:
            self._screen = screen
            for listener in list(self._listeners):
                self._call(listener, screen)

    @staticmethod
    def _call(listener: Callable[[Any], None], value: object) -> None:
        try:
            listener(value)
        except Exception:  # a broken display must not stop check-ins
            logger.exception("listener failed")

    def _finish(self, outcome: CheckinResult) -> None:
        with self._listeners_lock:
            listeners = list(self._finished_listeners)
        for listener in listeners:
            self._call(listener, outcome)

    def _today(self) -> str:
        """The branch's date. Without a synced clock (a Pi has no RTC) the date never goes back
        behind the last day numbers were issued on, so a number of today is never reissued."""
        day = self._clock.now().astimezone(self.settings.zone).date().isoformat()
        if not self._clock.synced():
            last = self._book.last_day()
            if last is not None and last > day:
                return last
        return day

    def _record(self, type_name: str, payload: dict[str, Any]) -> None:
        self._events.record(type_name, payload)

    def _set_fault(self, component: str, code: str | None, detail: str = "") -> None:
        """Record a fault event when a component's fault begins, changes or clears."""
        previous = self._faults.get(component)
        if previous == code:
            return
        try:
            if previous is not None:
                self._record(events.FAULT, events.fault(component, previous, False))
            if code is not None:
                self._record(events.FAULT, events.fault(component, code, True, detail))
        except OutboxFull:
            logger.error("cannot record %s fault %s: outbox full", component, code)
        if code is None:
            self._faults.pop(component, None)
            logger.info("%s fault %s cleared", component, previous)
        else:
            self._faults[component] = code
            logger.warning("%s fault: %s (%s)", component, code, detail)
