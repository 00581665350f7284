"""What participants read: Bahasa Indonesia first, English second, always a next step."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kiosk.bilingual import Bilingual
from kiosk.booking import REASONS, Booking
from kiosk.booking.reasons import TEXTS, verdict
from kiosk.domain import screens
from kiosk.domain.screens import Phase, Screen
from kiosk.domain.temperature import GateResult, Outcome
from kiosk.domain.tickets import Ticket

# Words that only appear in the Indonesian texts; each screen's Indonesian side uses some.
INDONESIAN = ("anda", "silakan", "tiket", "nomor", "suhu", "booking", "petugas", "layanan",
              "mohon", "kios", "pilih", "dahi", "tunggu", "tunjukkan", "selamat")  # fmt: skip

TICKET = Ticket("c1", "JHT A1-001", "JHT", "online", "KCP Demo", datetime(2026, 6, 15, 9, 30),
                "B1", "https://x.example/lacak?ref=B1", people_ahead=3)  # fmt: skip
REFERRED = GateResult(Outcome.REFERRED, 2, 38.1)
SLOT = datetime(2026, 6, 16, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
BOOKING = Booking("B1", "other-branch", "JHT", "online", 1, SLOT, SLOT + timedelta(hours=1),
                  "B*** S******")  # fmt: skip
EXTRA = {"checked_in_id": "", "checked_in_en": "", "earliest_id": "08.30", "earliest_en": "8:30"}


def every_screen() -> list[Screen]:
    return [
        screens.idle(full=False),
        screens.idle(full=True, out_of_paper=True),
        screens.choose_service("c1"),
        screens.checking_code(),
        screens.measuring("c1", present=False, attempt=1),
        screens.measuring("c1", present=True, attempt=2),
        screens.resting("c1"),
        screens.referred("c1", REFERRED),
        screens.refused(verdict("wrong_branch", BOOKING)),
        screens.already_claimed("c1", number="JHT A1-001"),
        screens.temperature_unavailable("c1"),
        screens.ticket(TICKET, printed=True),
        screens.ticket(TICKET, printed=False),
        screens.out_of_service("storage", Bilingual("Penyimpanan kios penuh.", "Storage full.")),
        screens.printing(TICKET),
    ]


@pytest.mark.parametrize("screen", every_screen(), ids=lambda s: s.phase.value)
def test_every_screen_is_in_bahasa_indonesia_with_english_and_a_next_step(screen: Screen) -> None:
    indonesian = " ".join([screen.title.id, *screen.lines("id"), screen.next_step.id]).lower()

    assert screen.title.id and screen.title.en and screen.title.id != screen.title.en
    assert screen.next_step.id and screen.next_step.en
    assert len(screen.lines("id")) >= len(screen.lines("en"))
    assert all(line.id and line.en for line in screen.body)
    assert any(word in indonesian for word in INDONESIAN)


def test_a_refusal_shows_the_verifiers_words_and_next_step() -> None:
    for reason in REASONS:
        if reason == "ok":
            continue
        variant = "tomorrow" if reason == "wrong_day" else ""
        found = verdict(reason, BOOKING, variant, **EXTRA)
        screen = screens.refused(found)
        assert screen.lines("id") == (found.message_id,)
        assert screen.next_step.id == found.next_step_id


def test_the_ticket_screen_without_paper_tells_what_to_do_with_the_number() -> None:
    screen = screens.ticket(TICKET, printed=False)

    assert screen.number == "JHT A1-001"
    assert screen.ticket is not None and not screen.ticket.printed
    assert "Printer tiket sedang bermasalah." in screen.lines("id")
    assert "nomor" in screen.next_step.id.lower()


def test_the_referral_screen_names_online_dropbox_and_175() -> None:
    text = " ".join(screens.referred("c1", REFERRED).lines("id"))

    assert "online" in text and "dropbox" in text and "175" in text
    assert "38" not in text  # the reading is not put on screen for others to see


def test_a_full_office_is_said_on_the_welcome_screen() -> None:
    screen = screens.idle(full=True)

    assert screen.wait_outside
    assert screens.FULL in screen.body


def test_the_slip_carries_no_name_and_no_reading() -> None:
    lines = screens.referral_slip_lines()

    assert any("175" in line for line in lines)
    assert all("°" not in line for line in lines)
    assert screens.choose_service("c").phase is Phase.CHOOSE_SERVICE


def test_the_welcome_screen_says_how_old_the_booking_data_is() -> None:
    age = Bilingual(
        "Data pemesanan diperbarui 5 menit lalu.", "Booking data updated 5 minutes ago."
    )
    screen = screens.idle(full=False, data_age=age)

    assert screen.lines("id")[-1] == age.id
    assert screen.lines("en")[-1] == age.en
    assert age not in screens.idle(full=False).body


def test_every_reason_is_worded_in_both_languages_with_a_next_step() -> None:
    for key, wording in TEXTS.items():
        assert wording.message.id and wording.message.en, key
        assert wording.next_step.id and wording.next_step.en, key
    found = verdict("wrong_branch", BOOKING)
    assert found.message == Bilingual(found.message_id, found.message_en)
    assert found.next_step == Bilingual(found.next_step_id, found.next_step_en)


@pytest.mark.parametrize(
    ("branch", "shown"), [("bali-denpasar", "(KC Bali Denpasar)"), ("jkt-01", "")]
)
def test_a_wrong_branch_is_named_as_people_know_it_never_by_its_raw_id(
    branch: str, shown: str
) -> None:
    """Issue 15: the refusal read "...kantor cabang lain (jkt-01)". The branch table's name is
    shown; a branch the table lacks is not named at all."""
    booking = Booking("B1", branch, "JHT", "online", 1, SLOT, SLOT + timedelta(hours=1), "B*")
    found = verdict("wrong_branch", booking)
    assert (
        found.message_id
        == f"Pemesanan Anda untuk kantor cabang lain{' ' + shown if shown else ''}."
    )
    assert branch not in found.message_id + found.message_en
    screen = screens.refused(found)
    assert not [line for line in screen.lines("id") + screen.lines("en") if branch in line]
