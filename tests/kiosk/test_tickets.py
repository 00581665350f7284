"""Ticket numbers (unique per branch per day, across kiosks and reboots) and the ticket layout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.bilingual import Bilingual
from kiosk.domain.tickets import (
    DEFAULT_CLASS_LETTERS,
    HEALTH_REMINDERS,
    PRIORITY_ORDER,
    UNSYNCED_MARK,
    ReferralSlip,
    Ticket,
    format_number,
    layout,
    numbering_day,
    priority_rank,
    referral_layout,
    rendered_lines,
    tracking_code,
)
from kiosk.store import TicketBook
from receipts import Cut, Line, QrCode, ascii_text
from uplink.booking import codes

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


SLIP = ReferralSlip(
    branch_name="KCP Jakarta Salemba",
    issued_at=datetime(2026, 6, 15, 9, 40),
    reason="temperature",
    steps=(
        Bilingual("Langkah satu", "Step one"),
        Bilingual(
            "Ajukan klaim online di lapakasik.bpjsketenagakerjaan.go.id atau aplikasi JMO.",
            "Claim online at lapakasik.bpjsketenagakerjaan.go.id or in the JMO app.",
        ),
        Bilingual("Hubungi 175", "Call 175"),
    ),
)


def test_the_referral_slip_has_steps_but_no_name_or_temperature() -> None:
    lines = rendered_lines(referral_layout(SLIP))

    assert lines[0] == "BPJAMSOSTEK - Lapak Asik" and "Hubungi 175" in lines
    assert lines.index("Hubungi 175") < lines.index("Call 175")  # Bahasa Indonesia first
    assert not any("°" in line or "Nama" in line for line in lines)


def test_the_referral_slip_says_where_when_and_why_in_words() -> None:
    lines = rendered_lines(referral_layout(SLIP))

    assert "KCP Jakarta Salemba" in lines
    assert "15-06-2026 09:40" in lines
    text = " ".join(lines)
    assert "Alasan: suhu tubuh di atas batas masuk kantor" in text
    assert "Reason: body temperature above the limit for entry" in text


@pytest.mark.parametrize("columns", [32, 48])
def test_no_word_or_url_on_the_slip_is_split_inside_a_word(columns: int) -> None:
    lines = rendered_lines(referral_layout(SLIP, columns=columns))
    unwrapped = rendered_lines(referral_layout(SLIP, columns=10_000))
    words = {word for line in unwrapped for word in line.split()}
    url = "lapakasik.bpjsketenagakerjaan.go.id"
    for line in lines:
        for word in line.split():
            # A whole word of the text, or a piece of the URL cut after one of its dots.
            assert (
                word in words or (word in url and word.endswith(".")) or (word.startswith("go.id"))
            ), word
    joined = "".join(w for line in lines for w in line.split() if w in url or url in w)
    assert url in joined  # typed across the break, it is the address


def test_a_walk_in_is_tracked_by_a_short_code_in_the_booking_code_format() -> None:
    checkin_id = "9f2c4e1ab37d4c0e8a6f5b2d1c3e4f50"  # 32 hex digits: nobody can type it
    code = tracking_code(checkin_id, None)
    lines = rendered_lines(layout(ticket(track_ref=code, booking_id=None, masked_name=None)))

    assert len(code) == 9 and codes.normalize(code) == code
    assert codes.display(code) in lines
    assert not any(checkin_id[:8].upper() in line.upper() for line in lines)
    assert tracking_code(checkin_id, "960443TY2") == "960443TY2"


def test_the_booking_code_is_printed_in_the_one_grouped_format() -> None:
    lines = rendered_lines(layout(ticket(booking_id="960443TY2", track_ref="960443TY2")))

    assert "Booking: 960-443-TY2" in lines
    assert lines.count("960-443-TY2") == 1  # the tracking line under the QR


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


def test_the_book_lists_the_tickets_left_printing_until_each_is_delivered(tmp_path: Path) -> None:
    book = TicketBook(tmp_path / "t.db")
    for checkin_id in ("a", "b", "c"):
        issue(book, checkin_id)
    for checkin_id in ("a", "b"):
        assert book.begin_printing(checkin_id)
    book.mark_delivered("a", "printed")

    [left] = book.printing()

    assert (left.checkin_id, left.number, left.delivery) == ("b", "JHT A1-002", "printing")
    book.mark_delivered("b", "screen_only")
    assert book.printing() == []
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


@pytest.mark.parametrize("columns", [24, 32, 48])
def test_a_ticket_issued_on_an_unsynced_clock_marks_its_time_as_doubtful(columns: int) -> None:
    """GIVEN a kiosk whose clock is not synchronised (a Pi after a power cut, no network)
    THEN the printed time is followed by "Jam belum sinkron / Clock not synced", Bahasa first,
    so staff know not to trust it; a synced ticket has no such line."""
    lines = rendered_lines(layout(ticket(clock_synced=False), columns=columns))
    at = next(i for i, line in enumerate(lines) if line.endswith("09:31"))  # may wrap at 24
    assert lines[at + 1 : at + 3] == [UNSYNCED_MARK.id, UNSYNCED_MARK.en]
    assert "sinkron" in UNSYNCED_MARK.id and "not synced" in UNSYNCED_MARK.en
    assert all(len(line) <= columns for line in lines)
    synced = rendered_lines(layout(ticket(), columns=columns))
    assert UNSYNCED_MARK.id not in synced and UNSYNCED_MARK.en not in synced


def test_the_referral_slip_marks_an_unsynced_time_too() -> None:
    slip = ReferralSlip("KCP Jakarta Salemba", AT, "temperature", (), clock_synced=False)
    lines = rendered_lines(referral_layout(slip))
    assert lines[2:5] == [AT.strftime("%d-%m-%Y %H:%M"), UNSYNCED_MARK.id, UNSYNCED_MARK.en]
    trusted = rendered_lines(referral_layout(ReferralSlip("KCP", AT, "temperature", ())))
    assert UNSYNCED_MARK.id not in trusted


# -- the day numbers count in --------------------------------------------------------------------


def test_numbers_count_in_the_branch_day_not_the_utc_one() -> None:
    wib = ZoneInfo("Asia/Jakarta")
    late_utc = datetime(2026, 6, 15, 17, 30, tzinfo=UTC)  # 00:30 WIB on the 16th

    assert numbering_day(late_utc, wib) == "2026-06-16"
    assert numbering_day(late_utc - timedelta(hours=1), wib) == "2026-06-15"  # 23:30 WIB


def test_an_unsynced_clock_gone_back_keeps_counting_in_the_last_day_numbers_were_issued() -> None:
    wib = ZoneInfo("Asia/Jakarta")
    gone_back = datetime(2026, 6, 14, 3, 0, tzinfo=UTC)  # a day behind the last numbers

    assert numbering_day(gone_back, wib, last_day="2026-06-15") == "2026-06-15"
    assert numbering_day(gone_back, wib, last_day="2026-06-13") == "2026-06-14"  # moves on
