"""Ticket numbers (unique per branch per day, across kiosks and reboots) and the ticket layout."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.tickets import (
    DEFAULT_CLASS_LETTERS,
    HEALTH_REMINDERS,
    PRIORITY_ORDER,
    Ticket,
    format_number,
    layout,
    priority_rank,
    referral_layout,
    rendered_lines,
)
from kiosk.store import TicketBook
from receipts import Cut, Line, QrCode, ascii_text

AT = datetime(2026, 6, 15, 9, 31, tzinfo=UTC)


def ticket(**changes: object) -> Ticket:
    fields: dict[str, object] = {
        "checkin_id": "c1",
        "number": "JHT A1-007",
        "service": "JHT",
        "klass": "online",
        "branch_name": "KCP Jakarta Salemba",
        "issued_at": datetime(2026, 6, 15, 9, 31),
        "track_ref": "B0000007",
        "track_url": "https://lapakasik.bpjsketenagakerjaan.go.id/lacak?ref=B0000007",
        "masked_name": "B*** S******",
        "booking_id": "B0000007",
        "people_ahead": 4,
    }
    fields.update(changes)
    return Ticket(**fields)  # type: ignore[arg-type]


def test_a_number_names_service_class_kiosk_and_sequence() -> None:
    assert format_number("JHT", "A", "1", 7) == "JHT A1-007"
    assert format_number("JP", "C", "Z", 1234) == "JP CZ-1234"


def test_online_bookings_come_before_collective_before_walk_ins() -> None:
    assert sorted(PRIORITY_ORDER, key=priority_rank) == ["online", "collective", "walkin"]
    assert DEFAULT_CLASS_LETTERS == {"online": "A", "collective": "B", "walkin": "C"}


def test_the_layout_says_everything_in_bahasa_indonesia_first() -> None:
    lines = rendered_lines(layout(ticket()))

    assert lines[0] == "BPJAMSOSTEK - Lapak Asik"
    assert "KCP Jakarta Salemba" in lines
    assert "JHT A1-007" in lines
    assert "PRIORITAS - Booking Online" in lines
    assert "JHT - Jaminan Hari Tua" in lines
    assert "Nama   : B*** S******" in lines
    assert "Booking: B0000007" in lines
    assert "Waktu  : 15-06-2026 09:31" in lines
    assert "Antrean di depan Anda: 4" in lines
    assert "- Tetap pakai masker." in lines
    assert lines.index("NOMOR ANTREAN / Queue number") < lines.index("JHT A1-007")


def test_the_number_is_big_and_the_ticket_ends_with_a_tracking_qr_and_a_cut() -> None:
    elements = layout(ticket())

    big = [e for e in elements if isinstance(e, Line) and e.size == "big"]
    assert [e.text for e in big] == ["JHT A1-007"]
    (qr,) = [e for e in elements if isinstance(e, QrCode)]
    assert qr.content.endswith("ref=B0000007")
    assert isinstance(elements[-1], Cut)


def test_every_line_fits_the_paper_and_is_plain_ascii() -> None:
    long_name = ticket(branch_name="Kantor Cabang Perintis Denpasar Renon Bali", notes=("é" * 80,))
    for columns in (32, 48):
        for element in layout(long_name, columns=columns):
            if isinstance(element, Line):
                width = {
                    "normal": columns,
                    "tall": columns,
                    "double": columns // 2,
                    "big": columns // 3,
                }
                assert len(element.text) <= width[element.size]
                assert element.text.isascii()


def test_walk_ins_have_no_booking_lines_and_a_full_office_says_wait_outside() -> None:
    lines = rendered_lines(
        layout(ticket(klass="walkin", masked_name=None, booking_id=None, wait_outside=True))
    )

    assert not any(line.startswith(("Nama", "Booking")) for line in lines)
    assert "Umum (Tanpa Booking)" in lines
    assert "RUANGAN PENUH" in lines


def test_health_reminders_are_on_every_ticket() -> None:
    lines = " ".join(rendered_lines(layout(ticket(klass="collective"))))
    for reminder in HEALTH_REMINDERS:
        assert reminder.split()[0] in lines


def test_the_referral_slip_has_steps_but_no_name_or_temperature() -> None:
    lines = rendered_lines(referral_layout(["Judul", "Langkah satu", "Hubungi 175"]))

    assert lines[0] == "Judul" and "Hubungi 175" in lines


def test_ascii_text_folds_accents_and_drops_control_characters() -> None:
    assert ascii_text("Café\tBali°") == "Cafe Bali"


# -- the ticket book -----------------------------------------------------------------------------


def issue(book: TicketBook, checkin_id: str, *, day: str = "2026-06-15", service: str = "JHT",
          klass: str = "online", kiosk: str = "1") -> str:  # fmt: skip
    letter = DEFAULT_CLASS_LETTERS[klass]  # type: ignore[index]
    return book.issue(
        checkin_id,
        day=day,
        service=service,
        klass=klass,
        number_of=lambda seq: format_number(service, letter, kiosk, seq),
        at=AT,
    ).number


def test_numbers_count_up_per_day_service_and_class(tmp_path: Path) -> None:
    book = TicketBook(tmp_path / "t.db")

    numbers = [
        issue(book, "a"),
        issue(book, "b"),
        issue(book, "c", klass="walkin"),
        issue(book, "d", service="JKK"),
        issue(book, "e", day="2026-06-16"),
    ]

    assert numbers == ["JHT A1-001", "JHT A1-002", "JHT C1-001", "JKK A1-001", "JHT A1-001"]
    book.close()


def test_a_check_in_keeps_its_number(tmp_path: Path) -> None:
    book = TicketBook(tmp_path / "t.db")
    first = issue(book, "a")

    again = book.issue("a", day="2026-06-15", service="JHT", klass="online",
                       number_of=lambda seq: f"X{seq}", at=AT)  # fmt: skip

    assert again.number == first and not again.new
    assert issue(book, "b") == "JHT A1-002"
    book.close()


def test_numbers_continue_after_a_reboot(tmp_path: Path) -> None:
    book = TicketBook(tmp_path / "t.db")
    issue(book, "a")
    book.close()

    book = TicketBook(tmp_path / "t.db")
    assert issue(book, "b") == "JHT A1-002"
    assert book.last_day() == "2026-06-15"
    book.close()


def test_a_ticket_is_printed_at_most_once(tmp_path: Path) -> None:
    book = TicketBook(tmp_path / "t.db")
    book.issue("a", day="d", service="JHT", klass="online", number_of=str, at=AT, booking_id="B1")

    assert book.begin_printing("a")
    assert not book.begin_printing("a")
    assert book.mark_delivered("a", "printed")
    assert not book.mark_delivered("a", "screen_only")
    booked = book.for_booking("B1")
    assert booked is not None and booked.delivery == "printed"
    book.close()


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from("12"),
            st.sampled_from(["JHT", "JKK"]),
            st.sampled_from(["online", "walkin"]),
            st.booleans(),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_two_kiosks_with_reboots_never_give_the_same_number_on_a_day(
    tmp_path_factory: pytest.TempPathFactory, plan: list[tuple[str, str, str, bool]]
) -> None:
    directory = tmp_path_factory.mktemp("branch")
    books = {code: TicketBook(directory / f"kiosk-{code}.db") for code in "12"}
    seen: list[str] = []
    for index, (kiosk, service, klass, reboot) in enumerate(plan):
        if reboot:
            books[kiosk].close()
            books[kiosk] = TicketBook(directory / f"kiosk-{kiosk}.db")
        seen.append(issue(books[kiosk], f"c{index}", service=service, klass=klass, kiosk=kiosk))
    for book in books.values():
        book.close()

    assert len(seen) == len(set(seen))
