"""Queue tickets: numbers unique per branch and day, priority classes, and the printed layout.

A number is ``{service} {class}{kiosk}-{seq:03d}``, e.g. ``JHT A1-007``:

- ``class`` is the priority class letter (online bookings ``A`` come first, collective ``B``,
  walk-ins ``C``; the letters are configurable);
- ``kiosk`` is this kiosk's code, unique within the branch (given at provisioning);
- ``seq`` is a per-kiosk counter per (day, service, class), kept durably (see `kiosk.store`).

Different kiosks never share a code and one kiosk never repeats a sequence number on a day, so
numbers are unique per branch per day without the kiosks talking to each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Literal

from kiosk.bilingual import Bilingual
from kiosk.booking import Service
from receipts import Cut, Element, Feed, Line, QrCode, Rule, fit, lines_of
from uplink.booking import codes

PriorityClass = Literal["online", "collective", "walkin"]
PRIORITY_ORDER: tuple[PriorityClass, ...] = ("online", "collective", "walkin")
DEFAULT_CLASS_LETTERS: Mapping[PriorityClass, str] = {
    "online": "A",
    "collective": "B",
    "walkin": "C",
}
SERVICE_NAMES: Mapping[Service, tuple[str, str]] = {
    "JHT": ("Jaminan Hari Tua", "Old-age savings"),
    "JKK": ("Jaminan Kecelakaan Kerja", "Work accident"),
    "JKM": ("Jaminan Kematian", "Death benefit"),
    "JP": ("Jaminan Pensiun", "Pension"),
}


def priority_rank(klass: PriorityClass) -> int:
    """0 for the class served first."""
    return PRIORITY_ORDER.index(klass)


def served_before_or_with(klass: PriorityClass) -> list[PriorityClass]:
    """The classes whose tickets are ahead of a new `klass` ticket (its own class included)."""
    return [k for k in PRIORITY_ORDER if priority_rank(k) <= priority_rank(klass)]


def numbering_day(now: datetime, zone: tzinfo, *, last_day: str | None = None) -> str:
    """The branch's date at `now` (ISO), the day queue numbers count in; never before
    `last_day`, the latest day numbers were issued on, which the caller gives while its clock
    is not synchronised (a Pi keeps no time while it is off: a clock gone back a day would
    start that day's numbers again, and they were handed out already)."""
    day = now.astimezone(zone).date().isoformat()
    if last_day is not None and last_day > day:
        return last_day
    return day


def format_number(service: str, class_letter: str, kiosk_code: str, seq: int) -> str:
    """The queue number as printed and called out, e.g. ``JHT A1-007``."""
    return f"{service} {class_letter}{kiosk_code}-{seq:03d}"


def tracking_code(checkin_id: str, booking_id: str | None) -> str:
    """The code a participant types to track their claim: the booking code, or for a walk-in
    a short code in the same format derived from the check-in id (`codes.walkin_code`)."""
    return booking_id if booking_id is not None else codes.walkin_code(checkin_id)


@dataclass(frozen=True)
class Ticket:
    """Everything a queue ticket says. Built by `kiosk.domain.checkin.ticket_for`, laid out by
    `layout()`.

    Attributes:
        checkin_id: the check-in this ticket belongs to (one ticket per check-in).
        number: the queue number, see `format_number`.
        service: the claim programme.
        klass: the priority class.
        branch_name: the branch's name as participants know it.
        issued_at: local time of issue (branch time zone).
        masked_name: masked booking name, only for bookings.
        booking_id: only for bookings.
        party_size: people covered by the check-in.
        people_ahead: people ahead in this service's queue, None when unknown.
        wait_outside: the office is full: wait outside until called.
        track_ref: the tracking code (see `tracking_code`): printed under the QR for typing.
        track_url: the URL in the tracking QR.
        notes: extra lines (Bahasa Indonesia), e.g. a manual temperature check.
        clock_synced: whether the kiosk's clock was synchronised when the ticket was issued;
            when not, the printed time is marked as doubtful (`UNSYNCED_MARK`).
    """

    checkin_id: str
    number: str
    service: Service
    klass: PriorityClass
    branch_name: str
    issued_at: datetime
    track_ref: str
    track_url: str
    masked_name: str | None = None
    booking_id: str | None = None
    party_size: int = 1
    people_ahead: int | None = None
    wait_outside: bool = False
    notes: tuple[str, ...] = field(default=())
    clock_synced: bool = True


# -- layout: what goes on the paper (the element vocabulary is in `receipts`) ----------------

CLASS_LABELS: Mapping[PriorityClass, str] = {
    "online": "PRIORITAS - Booking Online",
    "collective": "Kolektif (Perusahaan)",
    "walkin": "Umum (Tanpa Booking)",
}
UNSYNCED_MARK = Bilingual("! Jam belum sinkron", "(Clock not synced)")
"""Printed under the time when the kiosk's clock is not synchronised (a Pi without network
after a power cut starts hours behind): staff know the printed time is doubtful."""
HEALTH_REMINDERS: tuple[str, ...] = (
    "Tetap pakai masker.",
    "Jaga jarak minimal 1 meter.",
    "Cuci tangan / pakai hand sanitizer.",
    "Duduk di kursi yang bertanda.",
)


def layout(ticket: Ticket, *, columns: int = 32) -> list[Element]:
    """The ticket as printable elements, Bahasa Indonesia first (one short English line)."""
    when = ticket.issued_at.strftime("%d-%m-%Y %H:%M")
    service_id, service_en = SERVICE_NAMES[ticket.service]
    elements: list[Element] = [
        Line("BPJAMSOSTEK - Lapak Asik", "center", bold=True),
        Line(ticket.branch_name, "center"),
        Rule(),
        Line("NOMOR ANTREAN / Queue number", "center"),
        Line(ticket.number, "center", "big", bold=True),
        Line(CLASS_LABELS[ticket.klass], "center", bold=True),
        Line(f"{ticket.service} - {service_id}", "center"),
        Line(f"({service_en})", "center"),
        Rule(),
    ]
    if ticket.masked_name:
        elements.append(Line(f"Nama   : {ticket.masked_name}"))
    if ticket.booking_id:
        elements.append(Line(f"Booking: {codes.shown(ticket.booking_id)}"))
    if ticket.party_size > 1:
        elements.append(Line(f"Jumlah : {ticket.party_size} orang"))
    elements.append(Line(f"Waktu  : {when}"))
    if not ticket.clock_synced:
        elements += _unsynced_lines()
    if ticket.people_ahead is not None:
        elements.append(Line(f"Antrean di depan Anda: {ticket.people_ahead}", bold=True))
    if ticket.wait_outside:
        elements += [
            Feed(),
            Line("RUANGAN PENUH", "center", "double", bold=True),
            Line("Mohon tunggu di luar sampai", "center"),
            Line("nomor Anda dipanggil.", "center"),
        ]
    for note in ticket.notes:
        elements.append(Line(note, "center", bold=True))
    elements += [
        Rule(),
        Line("Pantau klaim / Track your claim:", "center"),
        QrCode(ticket.track_url),
        Line("Kode / Code:", "center"),
        Line(codes.shown(ticket.track_ref), "center", "double", bold=True),
        Rule(),
        *(Line(f"- {line}") for line in HEALTH_REMINDERS),
        Feed(),
        Line("Terima kasih. Semoga sehat selalu.", "center"),
        Cut(),
    ]
    return fit(elements, columns)


rendered_lines = lines_of
"""The text lines of a layout (for screens and tests)."""


REFERRAL_REASONS: Mapping[str, Bilingual] = {
    "temperature": Bilingual(
        "Alasan: suhu tubuh di atas batas masuk kantor (diukur dua kali).",
        "Reason: body temperature above the limit for entry (measured twice).",
    ),
}


@dataclass(frozen=True)
class ReferralSlip:
    """What the referral slip says: where and when, why, and what to do instead.

    No name and no reading on it: it may be seen by others.

    Attributes:
        branch_name: the branch's name as participants know it.
        issued_at: local time of the referral (branch time zone).
        reason: a key of `REFERRAL_REASONS`.
        steps: what to do instead, in both languages.
        clock_synced: as on `Ticket`: when False the time is marked as doubtful.
    """

    branch_name: str
    issued_at: datetime
    reason: str
    steps: tuple[Bilingual, ...]
    clock_synced: bool = True


def referral_layout(slip: ReferralSlip, *, columns: int = 32) -> list[Element]:
    """The referral slip, Bahasa Indonesia first, then the same in English."""
    reason = REFERRAL_REASONS.get(slip.reason, Bilingual(slip.reason, slip.reason))
    elements: list[Element] = [
        Line("BPJAMSOSTEK - Lapak Asik", "center", bold=True),
        Line(slip.branch_name, "center"),
        Line(slip.issued_at.strftime("%d-%m-%Y %H:%M"), "center"),
        *(() if slip.clock_synced else _unsynced_lines("center")),
        Rule(),
        Line("PETUNJUK / NEXT STEPS", "center", "tall", bold=True),
        Feed(),
        Line(reason.id, bold=True),
        *(Line(step.id) for step in slip.steps),
        Feed(),
        Line(reason.en, bold=True),
        *(Line(step.en) for step in slip.steps),
        Feed(),
        Cut(),
    ]
    return fit(elements, columns)


def _unsynced_lines(align: Literal["left", "center"] = "left") -> list[Element]:
    return [Line(UNSYNCED_MARK.id, align, bold=True), Line(UNSYNCED_MARK.en, align)]
