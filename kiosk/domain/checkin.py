"""The check-in flow's decisions: which phase comes next, what a stop is resumed as, which screen
and which events end each way a check-in can go. Pure: no store, device, clock or thread.

`kiosk.engine.CheckinEngine` orchestrates over its ports and asks this module what to do:

- `accepts_scan(phase)`: a QR or typed code starts a check-in only on the welcome and result
  screens (never mid-measurement, mid-choice or while printing).
- `after_verdict(verdict)`: refuse, look for a check-in of this booking begun here before a stop
  (`resume`), or measure.
- `resume(booked, claimed_here)`: the crash-resume table (below).
- `after_gate(outcome, on_unavailable)`: issue a ticket, issue one noting a staff check, send to
  the officer, or refer.
- `refusal`, `already_claimed`, `temperature_unavailable`, `referral`: the `Ending` of each
  way a check-in ends without a ticket: the events to record (in order), the result to
  announce and the screen to show, with how long it stays (`Hold`).
- `gate_screen`: which screen the temperature gate shows while it measures or rests.
- `ticket_for`, `referral_slip`: what a numbered check-in's ticket says, and a referral's slip.
- `should_print`, `delivery_of`, `printer_fault`, `out_of_paper`: whether to print, how a ticket
  reached the participant, which fault its event carries, which fault the printer is in and
  whether the welcome screen says it has no paper.
- `hold_seconds`: how long a screen of each `Hold` stays.

The crash-resume table, for a booking shown again after the kiosk stopped mid-check-in (the
verifier says "already checked in" because the ledger holds this kiosk's claim):

=================================  ==================================================
what the ticket book holds          what the kiosk does
=================================  ==================================================
no check-in, claim by this kiosk    MEASURE: measure and number it (the claim stands)
numbered, nothing delivered         DELIVER: report if not yet, print once, show
printing (stopped mid-delivery)     SETTLE: record its ticket event if not yet (as
                                    shown on screen, `interrupted_ticket_event`), mark
                                    it shown, show the number, never print a second
                                    (the engine settles these at its start already;
                                    this is for one it could not settle then)
printed / screen only               SHOW: show the number again, never print a second
no check-in, claim elsewhere        NONE: refuse, "already checked in"
=================================  ==================================================

A ticket's event is recorded before the book marks it delivered, so a delivered ticket always
has its event; a ticket still "printing" may have it or not, and the engine records the settled
event under the id the first one had (one event either way).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Any, Literal

from kiosk.bilingual import Bilingual
from kiosk.booking import Booking, Service, Verdict
from kiosk.domain import events, screens
from kiosk.domain.screens import STAFF_CHECK_NOTE, Phase, Screen
from kiosk.domain.temperature import GatePhase, GateResult, Outcome, TemperatureGate
from kiosk.domain.tickets import PriorityClass, ReferralSlip, Ticket, tracking_code

SCAN_PHASES = frozenset({Phase.IDLE, Phase.REFUSED, Phase.REFERRED, Phase.TICKET})
"""Phases in which a new QR starts a new check-in (the welcome screen and result screens)."""

TemperatureNote = Literal["passed", "staff_check"]
Delivery = Literal["printed", "screen_only"]
PRINTING = "printing"
"""A ticket book's delivery while its ticket is being printed (it may have come out)."""
PRINT_INTERRUPTED = "print_interrupted"
"""The fault code of a ticket whose printing the kiosk's stop interrupted."""
Hold = Literal["message", "ticket", "choice"]
"""How long a screen stays before the welcome screen returns (the `[flow]` settings)."""
Payload = dict[str, Any]


@dataclass(frozen=True)
class Issued:
    """A number taken for a check-in (`TicketBook.issue`).

    Attributes:
        checkin_id: the check-in.
        seq: its sequence number of (day, service, class).
        number: the queue number.
        delivery: None until delivered: "printing", then "printed" or "screen_only".
        new: False when the check-in already had this number.
        issued_at: when the number was taken (the first time).
        reported: its kiosk.checkin.accepted event is in the outbox.
    """

    checkin_id: str
    seq: int
    number: str
    delivery: str | None
    new: bool
    issued_at: datetime
    reported: bool = False


@dataclass(frozen=True)
class BookedCheckin:
    """A numbered check-in as the ticket book has it (`TicketBook.for_booking`, `.printing`);
    `booking_id` is None for a walk-in."""

    checkin_id: str
    day: str
    service: str
    klass: str
    number: str
    issued_at: datetime
    temperature: str
    reported: bool
    delivery: str | None
    booking_id: str | None = None


@dataclass
class Checkin:
    """One check-in in progress (mutable: the engine fills in the service and the gate).

    Attributes:
        checkin_id: its id (the idempotency key of its events and ticket).
        kind: "booking" or "walkin".
        klass: the priority class.
        service: the programme; None until a walk-in chooses.
        booking: the verified booking, for a booking.
        gate: the temperature gate while measuring.
        claimed: the ledger already holds this kiosk's claim (resumed after a stop).
    """

    checkin_id: str
    kind: events.Kind
    klass: PriorityClass
    service: Service | None
    booking: Booking | None = None
    gate: TemperatureGate | None = None
    claimed: bool = False

    @property
    def booking_id(self) -> str | None:
        return self.booking.booking_id if self.booking else None


@dataclass(frozen=True)
class CheckinResult:
    """What one finished check-in came to (for simulations, the CLI and benchmarks)."""

    checkin_id: str
    phase: Phase
    ticket_number: str = ""
    printed: bool = False
    reason: str = ""


@dataclass(frozen=True)
class Ending:
    """How a check-in ends without a ticket: record `events` in order, announce `result`, then
    show `screen` for the `hold` time."""

    events: tuple[tuple[str, Payload], ...]
    result: CheckinResult
    screen: Screen
    hold: Hold = "message"


def accepts_scan(phase: Phase) -> bool:
    """Whether a scanned or typed code starts a check-in in `phase`."""
    return phase in SCAN_PHASES


def class_of(booking: Booking) -> PriorityClass:
    """The priority class of a booking (walk-ins are "walkin")."""
    return "collective" if booking.channel == "collective" else "online"


def booking_checkin(checkin_id: str, booking: Booking, *, claimed: bool = False) -> Checkin:
    """A check-in of a verified booking."""
    return Checkin(
        checkin_id, "booking", class_of(booking), booking.service, booking, None, claimed
    )


def walkin_checkin(checkin_id: str) -> Checkin:
    """A walk-in's check-in (the service comes from the choice screen)."""
    return Checkin(checkin_id, "walkin", "walkin", None)


class AfterVerdict(StrEnum):
    REFUSE = "refuse"  # show the verifier's reason and next step
    RESUME = "resume"  # "already checked in": first look for a check-in begun here (`resume`)
    MEASURE = "measure"  # accepted: on to the temperature gate


def party_of(checkin: Checkin) -> screens.Party | None:
    """The group a collective booking covers, for the measuring screen (None otherwise)."""
    booking = checkin.booking
    if booking is None or booking.channel != "collective":
        return None
    return screens.Party(booking.masked_name, booking.party_size)


def gate_screen(checkin: Checkin, gate: TemperatureGate) -> Screen:
    """The screen while `gate` measures `checkin`: the rest screen while it rests (counting
    down to the rest's end), else the measuring screen (whether someone is in front of the
    sensor, which attempt, a collective booking's party; counting down to the attempt's
    timeout). The same gate state gives the same screen: the engine shows it when it changes."""
    if gate.phase is GatePhase.RESTING:
        return screens.resting(checkin.checkin_id, attempt=gate.attempts, deadline=gate.deadline())
    return screens.measuring(
        checkin.checkin_id,
        present=gate.present,
        attempt=gate.attempts,
        deadline=gate.deadline(),
        party=party_of(checkin),
    )


def after_verdict(verdict: Verdict) -> AfterVerdict:
    """What a verdict on a scanned or typed code leads to."""
    if verdict.reason == "already_checked_in" and verdict.booking is not None:
        return AfterVerdict.RESUME
    if verdict.accepted and verdict.booking is not None:
        return AfterVerdict.MEASURE
    return AfterVerdict.REFUSE


class Resume(StrEnum):
    NONE = "none"  # not begun here: refuse as the verifier said
    MEASURE = "measure"  # claimed here without a number: measure and number it
    DELIVER = "deliver"  # numbered, not delivered: deliver that number (print once)
    SETTLE = "settle"  # stopped while printing: record its ticket event if not yet, show it
    SHOW = "show"  # printed or shown: show the number, never print again


def resume(booked: BookedCheckin | None, *, claimed_here: bool) -> Resume:
    """The crash-resume table (module docstring).

    Args:
        booked: the ticket book's check-in of the booking, if any.
        claimed_here: the ledger's claim of the booking is this kiosk's own.
    """
    if booked is not None:
        if booked.delivery is None:
            return Resume.DELIVER
        return Resume.SETTLE if booked.delivery == PRINTING else Resume.SHOW
    return Resume.MEASURE if claimed_here else Resume.NONE


def resumed_temperature(booked: BookedCheckin) -> tuple[TemperatureNote, tuple[Bilingual, ...]]:
    """The temperature note of a resumed check-in and the ticket notes it brings."""
    if booked.temperature == "staff_check":
        return "staff_check", (STAFF_CHECK_NOTE,)
    return "passed", ()


class AfterGate(StrEnum):
    ISSUE = "issue"  # passed: number and ticket
    ISSUE_STAFF_CHECK = "issue_staff_check"  # no reading: ticket noting an officer measures
    SEND_TO_OFFICER = "send_to_officer"  # no reading and the config says refuse
    REFER = "refer"  # too warm twice: no ticket, next steps and slip


def after_gate(outcome: Outcome, on_unavailable: Literal["staff_check", "refuse"]) -> AfterGate:
    """What the temperature gate's outcome leads to."""
    if outcome is Outcome.PASSED:
        return AfterGate.ISSUE
    if outcome is Outcome.UNAVAILABLE:
        return (
            AfterGate.ISSUE_STAFF_CHECK
            if on_unavailable == "staff_check"
            else AfterGate.SEND_TO_OFFICER
        )
    return AfterGate.REFER


def refusal(verdict: Verdict) -> Ending:
    """A code that is not a usable booking (the booking id only when its signature verified)."""
    booking = verdict.booking
    payload = events.refused(
        reason=verdict.reason,
        booking_id=booking.booking_id if booking else None,
        service=booking.service if booking else None,
    )
    return Ending(
        ((events.REFUSED, payload),),
        CheckinResult("", Phase.REFUSED, reason=verdict.reason),
        screens.refused(verdict),
    )


def already_claimed(booking: Booking, checkin_id: str, *, number: str = "") -> Ending:
    """The booking was checked in before; with `number`, this kiosk gave it that number."""
    payload = events.refused(
        reason="already_checked_in", booking_id=booking.booking_id, service=booking.service
    )
    return Ending(
        ((events.REFUSED, payload),),
        CheckinResult(checkin_id, Phase.REFUSED, number, reason="already_checked_in"),
        screens.already_claimed(checkin_id, number=number),
    )


def temperature_unavailable(checkin: Checkin) -> Ending:
    """No usable reading and the config sends the participant to the officer."""
    return Ending(
        (),
        CheckinResult(checkin.checkin_id, Phase.REFUSED, reason="temperature_unavailable"),
        screens.temperature_unavailable(checkin.checkin_id),
    )


def referral(checkin: Checkin, result: GateResult) -> Ending:
    """Too warm twice: no ticket (the slip is printed by the engine before this shows)."""
    return Ending(
        (),
        CheckinResult(checkin.checkin_id, Phase.REFERRED, reason="temperature"),
        screens.referred(checkin.checkin_id, result),
    )


def temperature_event(
    checkin: Checkin,
    result: GateResult,
    *,
    threshold_c: float,
    store_reading: bool,
    link_booking: bool,
) -> tuple[str, Payload]:
    """The kiosk.temperature.outcome event (reading and booking only when configured)."""
    return events.TEMPERATURE, events.temperature(
        result,
        kind=checkin.kind,
        threshold_c=threshold_c,
        store_reading=store_reading,
        booking_id=checkin.booking_id if link_booking else None,
    )


def accepted_event(
    checkin: Checkin, number: str, *, wait_outside: bool, temperature: TemperatureNote
) -> tuple[str, Payload]:
    """The kiosk.checkin.accepted event of a numbered check-in."""
    booking = checkin.booking
    if checkin.service is None:
        raise ValueError("a check-in is numbered only once its service is known")
    return events.ACCEPTED, events.accepted(
        checkin_id=checkin.checkin_id,
        kind=checkin.kind,
        klass=checkin.klass,
        service=checkin.service,
        ticket_number=number,
        party_size=booking.party_size if booking else 1,
        wait_outside=wait_outside,
        temperature=temperature,
        booking_id=checkin.booking_id,
    )


def hold_seconds(hold: Hold, *, ticket_s: float, choice_s: float, message_s: float) -> float:
    """How long a screen held as `hold` stays (the `[flow]` settings)."""
    if hold == "ticket":
        return ticket_s
    if hold == "choice":
        return choice_s
    return message_s


def ticket_for(
    checkin: Checkin,
    number: str,
    *,
    branch_name: str,
    issued_at: datetime,
    zone: tzinfo,
    track_url: str,
    people_ahead: int | None,
    wait_outside: bool,
    notes: tuple[Bilingual, ...],
    clock_synced: bool,
) -> Ticket:
    """What the ticket of a numbered check-in says (`track_url` has a ``{ref}`` field; the notes
    are printed in Bahasa Indonesia, the paper's language)."""
    if checkin.service is None:
        raise ValueError("a check-in is numbered only once its service is known")
    booking = checkin.booking
    ref = tracking_code(checkin.checkin_id, checkin.booking_id)
    return Ticket(
        checkin_id=checkin.checkin_id,
        number=number,
        service=checkin.service,
        klass=checkin.klass,
        branch_name=branch_name,
        issued_at=issued_at.astimezone(zone),
        track_ref=ref,
        track_url=track_url.format(ref=ref),
        masked_name=booking.masked_name if booking else None,
        booking_id=checkin.booking_id,
        party_size=booking.party_size if booking else 1,
        people_ahead=people_ahead,
        wait_outside=wait_outside,
        notes=tuple(note.id for note in notes),
        clock_synced=clock_synced,
    )


def referral_slip(
    *, branch_name: str, referred_at: datetime, zone: tzinfo, reason: str, clock_synced: bool
) -> ReferralSlip:
    """What a referral's slip says: the branch, the local time, why (a key of
    `kiosk.domain.tickets.REFERRAL_REASONS`), the referral screen's next steps and a get-well
    wish; no name and no reading (others may see it)."""
    return ReferralSlip(
        branch_name=branch_name,
        issued_at=referred_at.astimezone(zone),
        reason=reason,
        steps=(*screens.REFERRAL_STEPS, screens.GET_WELL),
        clock_synced=clock_synced,
    )


UNPRINTABLE = frozenset({"paper_out", "offline"})
"""Printer statuses (`PaperStatus` values) in which a ticket is not even tried."""


def out_of_paper(printer_fault: str | None) -> bool:
    """Whether the welcome screen says tickets cannot be printed, from the printer's fault."""
    return printer_fault in UNPRINTABLE


def should_print(status: str) -> bool:
    """Whether to send a ticket or slip to a printer reporting `status`."""
    return status not in UNPRINTABLE


def delivery_of(status: str, print_fault: str | None) -> tuple[Delivery, str | None]:
    """How a ticket reached the participant, and the fault code its ticket event carries.

    Args:
        status: the printer's status before printing (a `PaperStatus` value).
        print_fault: the fault code the print itself failed with, if it was tried and failed.
    """
    if not should_print(status):
        return "screen_only", status
    if print_fault is not None:
        return "screen_only", print_fault
    return "printed", None


def printer_fault(status: str, fault_code: str | None) -> str | None:
    """The printer's fault after a ticket: the delivery's fault, else "paper_low" on a nearly
    empty roll, else none (a fault that was active clears)."""
    if fault_code is not None:
        return fault_code
    return "paper_low" if status == "paper_low" else None


def ticket_event(
    ticket: Ticket, delivery: Delivery, status: str, fault_code: str | None
) -> tuple[str, Payload]:
    """The kiosk.ticket.issued event: how the number reached the participant, and a walk-in's
    tracking code (the one its ticket shows: the back office finds the check-in by it)."""
    return events.TICKET, events.ticket(
        checkin_id=ticket.checkin_id,
        ticket_number=ticket.number,
        delivery=delivery,
        printer_status=status,
        fault_code=fault_code,
        walkin_code=ticket.track_ref if ticket.booking_id is None else None,
    )


def interrupted_ticket_event(booked: BookedCheckin) -> tuple[str, Payload]:
    """The kiosk.ticket.issued event of a ticket whose delivery a stop interrupted, settled
    at the next start or when its booking is shown again: its number was on the printing
    screen (and is on screen again for a booking); on paper too, perhaps: nobody knows, so the
    printer's status is "unknown". A walk-in's carries its tracking code, as its ticket did."""
    walkin = booked.booking_id is None
    return events.TICKET, events.ticket(
        checkin_id=booked.checkin_id,
        ticket_number=booked.number,
        delivery="screen_only",
        printer_status="unknown",
        fault_code=PRINT_INTERRUPTED,
        walkin_code=tracking_code(booked.checkin_id, None) if walkin else None,
    )


def fault_change(
    component: str, previous: str | None, code: str | None, detail: str = ""
) -> tuple[tuple[str, Payload], ...]:
    """The device.fault events when a component's fault goes from `previous` to `code` (None:
    no fault): the old one cleared, the new one begun; nothing when it did not change."""
    if previous == code:
        return ()
    changes: list[tuple[str, Payload]] = []
    if previous is not None:
        changes.append((events.FAULT, events.fault(component, previous, False)))
    if code is not None:
        changes.append((events.FAULT, events.fault(component, code, True, detail)))
    return tuple(changes)


def storage_fault_overcome(detail: str) -> tuple[tuple[str, Payload], ...]:
    """The storage fault, begun and cleared, recorded together once storage works again (the
    first events written after it failed: while it failed, nothing could be recorded)."""
    return tuple(
        (events.FAULT, {**events.fault("storage", "unwritable", active), "detail": detail})
        for active in (True, False)
    )


def people_ahead(published: int | None, counted: int | None) -> int | None:
    """People ahead of a new ticket: the branch queue's count when it is published, else this
    kiosk's own count of earlier tickets (which includes the new one), else unknown."""
    if published is not None:
        return published
    if counted is None:
        return None
    return max(0, counted - 1)
