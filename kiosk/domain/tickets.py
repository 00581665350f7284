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

import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from kiosk.booking import Service

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


def format_number(service: str, class_letter: str, kiosk_code: str, seq: int) -> str:
    """The queue number as printed and called out, e.g. ``JHT A1-007``."""
    return f"{service} {class_letter}{kiosk_code}-{seq:03d}"


@dataclass(frozen=True)
class Ticket:
    """Everything a queue ticket says. Built by the engine, laid out by `layout()`.

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
        track_ref: the reference encoded in the tracking QR.
        track_url: the URL in the tracking QR.
        notes: extra lines (Bahasa Indonesia), e.g. a manual temperature check.
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


# -- layout: what goes on the paper, independent of the printer ---------------------------------

Align = Literal["left", "center", "right"]
Size = Literal["normal", "double", "big"]  # big: 3x width and height, for the number


@dataclass(frozen=True)
class Text:
    text: str
    align: Align = "left"
    size: Size = "normal"
    bold: bool = False


@dataclass(frozen=True)
class QrCode:
    content: str
    module_px: int = 6


@dataclass(frozen=True)
class Rule:
    """A horizontal line across the paper."""


@dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True)
class Cut:
    """End of ticket: feed and cut."""


Element = Text | QrCode | Rule | Feed | Cut

CLASS_LABELS: Mapping[PriorityClass, str] = {
    "online": "PRIORITAS - Booking Online",
    "collective": "Kolektif (Perusahaan)",
    "walkin": "Umum (Tanpa Booking)",
}
HEALTH_REMINDERS: tuple[str, ...] = (
    "Tetap pakai masker.",
    "Jaga jarak minimal 1 meter.",
    "Cuci tangan / pakai hand sanitizer.",
    "Duduk di kursi yang bertanda.",
)


def ascii_text(text: str) -> str:
    """The text in plain ASCII: the printer's code page and our renderer agree on it."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch if ch.isprintable() else " " for ch in folded)


def layout(ticket: Ticket, *, columns: int = 32) -> list[Element]:
    """The ticket as printable elements, Bahasa Indonesia first (one short English line)."""
    when = ticket.issued_at.strftime("%d-%m-%Y %H:%M")
    service_id, service_en = SERVICE_NAMES[ticket.service]
    elements: list[Element] = [
        Text("BPJAMSOSTEK - Lapak Asik", "center", bold=True),
        Text(ticket.branch_name, "center"),
        Rule(),
        Text("NOMOR ANTREAN / Queue number", "center"),
        Text(ticket.number, "center", "big", bold=True),
        Text(CLASS_LABELS[ticket.klass], "center", bold=True),
        Text(f"{ticket.service} - {service_id}", "center"),
        Text(f"({service_en})", "center"),
        Rule(),
    ]
    if ticket.masked_name:
        elements.append(Text(f"Nama   : {ticket.masked_name}"))
    if ticket.booking_id:
        elements.append(Text(f"Booking: {ticket.booking_id}"))
    if ticket.party_size > 1:
        elements.append(Text(f"Jumlah : {ticket.party_size} orang"))
    elements.append(Text(f"Waktu  : {when}"))
    if ticket.people_ahead is not None:
        elements.append(Text(f"Antrean di depan Anda: {ticket.people_ahead}", bold=True))
    if ticket.wait_outside:
        elements += [
            Feed(),
            Text("RUANGAN PENUH", "center", "double", bold=True),
            Text("Mohon tunggu di luar sampai", "center"),
            Text("nomor Anda dipanggil.", "center"),
        ]
    for note in ticket.notes:
        elements.append(Text(note, "center", bold=True))
    elements += [
        Rule(),
        Text("Pantau klaim Anda:", "center"),
        QrCode(ticket.track_url),
        Text(ticket.track_ref, "center"),
        Rule(),
        *(Text(f"- {line}") for line in HEALTH_REMINDERS),
        Feed(),
        Text("Terima kasih. Semoga sehat selalu.", "center"),
        Cut(),
    ]
    return [fitted for element in elements for fitted in _fit(element, columns)]


def _fit(element: Element, columns: int) -> list[Element]:
    """Wrap text to the paper's width (the big number is cut, it is never that long)."""
    if not isinstance(element, Text):
        return [element]
    width = {"normal": columns, "double": columns // 2, "big": columns // 3}[element.size]
    text = ascii_text(element.text)
    if element.size == "big":
        return [Text(text[:width], element.align, element.size, element.bold)]
    lines = textwrap.wrap(text, width, subsequent_indent="  " if text.startswith("- ") else "")
    return [Text(line, element.align, element.size, element.bold) for line in lines or [""]]


def rendered_lines(elements: Sequence[Element]) -> list[str]:
    """The text lines of a layout (for screens and tests)."""
    return [element.text for element in elements if isinstance(element, Text)]


def referral_layout(lines: Sequence[str], *, columns: int = 32) -> list[Element]:
    """The referral slip: what to do instead of coming in (no name, no temperature on it)."""
    elements: list[Element] = [Text(lines[0], "center", bold=True), Rule()]
    elements += [Text(line) for line in lines[1:]]
    elements += [Feed(), Cut()]
    return [fitted for element in elements for fitted in _fit(element, columns)]
