"""The screen contract a UI draws from: bilingual texts, structured facts, subscriptions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from kiosk.bilingual import Bilingual
from kiosk.domain import screens
from kiosk.domain.screens import STAFF_CHECK_NOTE, Phase, Screen
from kiosk.domain.tickets import tracking_code
from kiosk.engine import CLOCK_CHECK_S, CheckinResult
from kiosk.ports import PaperStatus
from kiosk.sim.driver import drive
from receipts import Element
from tests.kiosk.rig import Rig, build_kiosk, make_rig

# -- the bilingual text type ----------------------------------------------------------------------


def test_a_text_holds_both_languages_and_picks_one() -> None:
    text = Bilingual("Nomor {n}", "Number {n}").format(n=7)

    assert text == Bilingual("Nomor 7", "Number 7")
    assert (text.in_("id"), text.in_("en")) == ("Nomor 7", "Number 7")
    assert str(text) == "Nomor 7 / Number 7"


@pytest.mark.parametrize(("id_", "en"), [("Nomor", ""), ("", "Number")])
def test_a_text_in_one_language_only_is_refused(id_: str, en: str) -> None:
    with pytest.raises(ValueError, match="give both languages"):
        Bilingual(id_, en)


def test_the_staff_check_note_is_in_both_languages() -> None:
    assert STAFF_CHECK_NOTE.id.startswith("Suhu Anda")
    assert "officer" in STAFF_CHECK_NOTE.en


def test_every_line_of_every_screen_has_both_languages() -> None:
    every = [
        screens.idle(full=True, out_of_paper=True, data_age=Bilingual("5 menit", "5 minutes")),
        screens.choose_service("c"),
        screens.checking_code(),
        screens.measuring("c", present=True, attempt=2, deadline=1.0),
        screens.resting("c", deadline=2.0),
        screens.out_of_service("storage", screens.STORAGE_BROKEN),
    ]
    for screen in every:
        texts = [screen.title, screen.next_step, *screen.body, *(o.label for o in screen.options)]
        assert all(t.id and t.en and t.id != t.en for t in texts), screen.phase


# -- facts on the screens the engine shows -----------------------------------------------------


def test_a_refusal_carries_its_reason_code_and_its_deadline(rig: Rig) -> None:
    started = rig.clock.monotonic()

    screen = rig.checkin(rig.token("B0000101", branch="cabang-lain"))

    assert screen.phase is Phase.REFUSED
    assert screen.reason == "wrong_branch"
    assert screen.deadline == started + rig.engine.settings.message_screen_s


def test_a_used_booking_is_refused_with_its_reason_and_number(rig: Rig) -> None:
    token = rig.token("B0000102")
    rig.checkin(token)
    rig.next_participant()

    screen = rig.checkin(token)

    assert (screen.phase, screen.reason, screen.number) == (
        Phase.REFUSED,
        "already_checked_in",
        "JHT A1-001",
    )


def test_a_referral_and_an_unavailable_sensor_have_reason_codes(tmp_path: Path) -> None:
    rig = make_rig(tmp_path, thermometer={"on_unavailable": "refuse"})
    rig.thermometer.set_object(39.0)
    assert rig.checkin(rig.token("B0000103")).reason == "temperature"
    rig.next_participant()
    rig.thermometer.fail("missing")
    assert rig.checkin(rig.token("B0000104")).reason == "temperature_unavailable"
    rig.close()


def test_walk_in_options_are_codes_with_bilingual_labels(rig: Rig) -> None:
    rig.engine.start_walkin()
    screen = rig.engine.settle()

    code, label = screen.options[0]
    assert (code, label.id) == ("JHT", "Jaminan Hari Tua")
    assert all(label.en for _code, label in screen.options)
    assert screen.deadline == rig.clock.monotonic() + rig.engine.settings.choice_timeout_s


def test_measuring_says_the_attempt_presence_and_when_it_times_out(rig: Rig) -> None:
    policy = rig.engine.settings.policy
    rig.thermometer.set_object(20.0)  # nobody in front of the sensor yet
    rig.engine.scan(rig.token("B0000105"))
    started = rig.clock.monotonic()
    waiting = rig.engine.settle()

    assert (waiting.phase, waiting.attempt, waiting.present) == (Phase.MEASURING, 1, False)
    assert waiting.deadline == started + policy.attempt_timeout_s

    rig.thermometer.set_object(39.0)
    rig.clock.advance(policy.sample_interval_s)
    assert rig.engine.settle().present
    while rig.engine.screen.phase is Phase.MEASURING:
        rig.clock.advance(policy.sample_interval_s)
        rig.engine.settle()

    resting = rig.engine.screen
    assert (resting.phase, resting.attempt) == (Phase.RESTING, 1)
    assert resting.deadline == pytest.approx(rig.clock.monotonic() + policy.retry_rest_s)

    rig.thermometer.set_object(20.0)
    rig.clock.advance(policy.retry_rest_s)
    again = rig.engine.settle()
    assert (again.phase, again.attempt, again.present) == (Phase.MEASURING, 2, False)


def test_the_ticket_is_data_on_the_screen(rig: Rig) -> None:
    screen = rig.checkin(rig.token("B0000106", service="JKM"))

    assert screen.ticket == screens.TicketFacts(
        number="JKM A1-001",
        service="JKM",
        service_name=Bilingual("Jaminan Kematian", "Death benefit"),
        people_ahead=0,
        delivery="printed",
        wait_outside=False,
        track_ref="B0000106",
    )
    assert screen.number == "JKM A1-001"
    assert screen.deadline == rig.clock.monotonic() + rig.engine.settings.ticket_screen_s


def test_a_ticket_without_paper_is_screen_only(rig: Rig) -> None:
    rig.printer.paper_left = 0

    ticket = rig.checkin(rig.token("B0000107")).ticket

    assert ticket is not None
    assert (ticket.delivery, ticket.printed) == ("screen_only", False)
    assert ticket.track_ref == "B0000107"  # to write down with the number: the booking's code


def test_a_walk_in_ticket_on_screen_only_carries_its_own_tracking_code(rig: Rig) -> None:
    rig.printer.paper_left = 0

    ticket = rig.walkin("JKK").ticket

    assert ticket is not None and not ticket.printed
    assert ticket.track_ref == tracking_code(rig.screens[-1].checkin_id, None)
    assert ticket.track_ref


def test_every_screen_says_whether_the_clock_is_synchronised(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    assert not rig.engine.screen.clock_unsynced
    rig.clock.set_synced(False)
    rig.clock.advance(CLOCK_CHECK_S)
    assert rig.tick().clock_unsynced  # published at once, not only on the next screen
    assert rig.screens[-1].clock_unsynced
    screen = rig.checkin(rig.token("B0000111"))
    assert screen.phase is Phase.TICKET and screen.clock_unsynced
    rig.clock.set_synced(True)
    rig.clock.advance(CLOCK_CHECK_S)
    rig.engine.tick()
    assert not rig.engine.screen.clock_unsynced
    rig.close()


def test_a_staff_check_ticket_notes_it_in_both_languages(rig: Rig) -> None:
    rig.thermometer.fail("missing")

    screen = rig.checkin(rig.token("B0000108"))

    assert screen.ticket is not None and screen.ticket.notes == (STAFF_CHECK_NOTE,)
    assert STAFF_CHECK_NOTE.id in screen.lines("id")
    assert STAFF_CHECK_NOTE.en in screen.lines("en")
    assert b"Suhu Anda akan" in rig.printer.jobs[0].data  # the paper keeps its Indonesian note


def test_printing_is_shown_while_the_ticket_prints(tmp_path: Path) -> None:
    seen: list[Screen] = []

    class Watching:
        """A printer that notes what the screen says while it prints."""

        rig: Rig

        def status(self) -> PaperStatus:
            return PaperStatus.OK

        def print_elements(self, elements: Sequence[Element]) -> None:
            seen.append(self.rig.engine.screen)

    printer = Watching()
    rig = make_rig(tmp_path, printer=printer)
    printer.rig = rig

    rig.checkin(rig.token("B0000109"))

    assert [s.phase for s in seen] == [Phase.PRINTING]
    assert seen[0].number == "JHT A1-001"
    assert seen[0].ticket is not None and seen[0].ticket.delivery == "printing"
    phases = [s.phase for s in rig.screens]
    assert phases.index(Phase.PRINTING) == phases.index(Phase.TICKET) - 1
    rig.close()


def test_no_printing_screen_when_the_printer_is_out_of_paper(rig: Rig) -> None:
    rig.printer.paper_left = 0

    rig.checkin(rig.token("B0000110"))

    assert Phase.PRINTING not in [s.phase for s in rig.screens]


# -- subscriptions ------------------------------------------------------------------------------


def test_subscribe_delivers_the_current_screen_at_once_and_can_be_ended(rig: Rig) -> None:
    got: list[Screen] = []

    unsubscribe = rig.engine.subscribe(got.append)
    assert [s.phase for s in got] == [Phase.IDLE]

    rig.engine.start_walkin()
    rig.engine.settle()
    unsubscribe()
    unsubscribe()  # twice is harmless
    rig.engine.cancel()
    rig.engine.settle()

    assert [s.phase for s in got] == [Phase.IDLE, Phase.CHOOSE_SERVICE]


def test_every_finished_check_in_is_announced(rig: Rig) -> None:
    finished: list[CheckinResult] = []
    unsubscribe = rig.engine.on_finished(finished.append)

    rig.checkin(rig.token("B0000111"))
    rig.next_participant()
    rig.checkin("not a booking")
    rig.next_participant()
    unsubscribe()
    rig.checkin(rig.token("B0000112"))

    assert [(r.phase, r.ticket_number, r.reason) for r in finished] == [
        (Phase.TICKET, "JHT A1-001", ""),
        (Phase.REFUSED, "", "wrong_prefix"),
    ]


def test_a_broken_finished_listener_does_not_stop_check_ins(rig: Rig) -> None:
    def broken(_result: CheckinResult) -> None:
        raise RuntimeError("display gone")

    rig.engine.on_finished(broken)

    assert rig.checkin(rig.token("B0000113")).phase is Phase.TICKET


def test_the_state_is_published_for_each_finished_check_in_past_a_thousand(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a kiosk on a refusal screen WHEN 1,001 more refusals finish without time passing
    THEN each publishes the state (the old change detection stopped counting at 1,000)."""
    kiosk = build_kiosk(rig)
    published: list[Mapping[str, Any]] = []
    monkeypatch.setattr(kiosk.uplink, "publish_state", published.append)
    kiosk.step()
    for n in range(1001):
        kiosk.engine.scan(f"not a booking {n}")
        kiosk.step()
    kiosk.close()

    assert len(published) == 1 + 1001
    assert kiosk.engine.screen.phase is Phase.REFUSED


def test_drive_ends_on_the_ticket_after_printing(rig: Rig) -> None:
    rig.engine.scan(rig.token("B0000114"))

    assert drive(rig.engine, rig.clock) is Phase.TICKET
