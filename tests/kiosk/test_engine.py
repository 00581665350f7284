"""The check-in flow end to end on simulated devices: what the participant sees, prints, events."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kiosk.booking import CheckinLedger, Verdict, build_verifier
from kiosk.domain import events
from kiosk.domain.capacity import Occupancy
from kiosk.domain.screens import Phase
from kiosk.domain.temperature import Reading
from kiosk.domain.tickets import tracking_code
from kiosk.errors import LedgerError, PrinterError, StoreError, TicketBookError
from kiosk.ports import PaperStatus
from kiosk.sim.driver import drive
from kiosk.store import Issued, TicketBook
from receipts import Element, QrCode
from tests.kiosk.rig import NOW, Rig, make_rig
from uplink import Outbox, OutboxFull
from uplink.messages import Envelope
from uplink.sink import EventLog


class Crash(BaseException):
    """A power cut at an exact point (BaseException: nothing in the kiosk catches it)."""


# -- bookings -----------------------------------------------------------------------------------


def test_a_valid_booking_gets_a_priority_ticket_and_its_events(rig: Rig) -> None:
    screen = rig.checkin(rig.token("B0000001", service="JKK"))

    assert screen.phase is Phase.TICKET
    assert screen.number == "JKK A1-001"
    assert screen.ticket is not None and screen.ticket.printed
    assert rig.events.types() == [events.TEMPERATURE, events.ACCEPTED, events.TICKET]
    accepted = rig.events.of(events.ACCEPTED)[0]
    assert accepted["booking_id"] == "B0000001"
    assert accepted["priority_class"] == "online"
    assert rig.events.of(events.TICKET)[0]["delivery"] == "printed"
    assert len(rig.printer.jobs) == 1
    assert b"JKK A1-001" in rig.printer.jobs[0].data
    assert rig.ledger.is_checked_in("B0000001")


def test_the_ticket_prints_only_after_the_check_in_is_durable(tmp_path: Path) -> None:
    seen: list[tuple[bool, str | None, list[str]]] = []

    class Witness:
        """A printer that looks at the stores when the ticket is sent to it."""

        rig: Rig

        def status(self) -> PaperStatus:
            return PaperStatus.OK

        def print_elements(self, elements: Sequence[Element]) -> None:
            booked = self.rig.book.for_booking("B0000001")
            seen.append(
                (
                    self.rig.ledger.is_checked_in("B0000001"),
                    booked.delivery if booked else None,
                    self.rig.events.types(),
                )
            )

    witness = Witness()
    rig = make_rig(tmp_path, printer=witness)
    witness.rig = rig
    rig.checkin(rig.token("B0000001"))

    assert seen == [(True, "printing", [events.TEMPERATURE, events.ACCEPTED])]
    rig.close()


def test_a_booking_for_another_branch_is_refused_with_its_reason(rig: Rig) -> None:
    screen = rig.checkin(rig.token("B0000002", branch="other-branch"))

    assert screen.phase is Phase.REFUSED
    assert screen.title.id == "Booking tidak dapat digunakan"
    assert screen.lines("id") and screen.lines("id") != screen.lines("en")
    assert screen.next_step.id
    refused = rig.events.of(events.REFUSED)
    assert refused == [
        {"stage": "booking", "reason": "wrong_branch", "booking_id": "B0000002", "service": "JHT"}
    ]
    assert rig.printer.jobs == []
    assert rig.thermometer.reads == 0  # no temperature for a booking that cannot be used


def test_garbage_is_refused_without_a_booking_id(rig: Rig) -> None:
    screen = rig.checkin("https://example.com/not-a-booking")

    assert screen.phase is Phase.REFUSED
    assert rig.events.of(events.REFUSED) == [{"stage": "booking", "reason": "wrong_prefix"}]


def test_a_booking_for_tomorrow_says_so(rig: Rig) -> None:
    slot = NOW + timedelta(days=1)
    screen = rig.checkin(rig.token("B0000003", slot_start=slot.replace(minute=0)))

    assert screen.phase is Phase.REFUSED
    assert rig.events.of(events.REFUSED)[0]["reason"] == "wrong_day"
    assert "besok" in " ".join(screen.lines("id")).lower()


def test_a_collective_booking_gets_class_b_and_its_party_size(rig: Rig) -> None:
    screen = rig.checkin(rig.token("B0000004", channel="collective", party_size=25))

    assert screen.number == "JHT B1-001"
    accepted = rig.events.of(events.ACCEPTED)[0]
    assert accepted["party_size"] == 25
    assert "Jumlah : 25 orang" in rig.printer.jobs[0].data.decode("ascii", "replace")


def test_the_same_qr_held_up_twice_is_read_once(rig: Rig) -> None:
    token = rig.token("B0000005")
    rig.checkin(token)
    rig.engine.scan(token)  # still in front of the camera a moment later
    rig.engine.settle()

    assert len(rig.printer.jobs) == 1
    assert rig.events.of(events.REFUSED) == []


def test_showing_a_used_booking_again_shows_its_number_and_prints_nothing(rig: Rig) -> None:
    token = rig.token("B0000006")
    rig.checkin(token)
    rig.next_participant()

    screen = rig.checkin(token)

    assert screen.phase is Phase.REFUSED
    assert screen.number == "JHT A1-001"
    assert screen.title.id == "Booking ini sudah dipakai untuk check-in"
    assert len(rig.printer.jobs) == 1
    assert rig.events.of(events.REFUSED)[0]["reason"] == "already_checked_in"


def test_a_typed_code_without_the_online_lookup_is_refused_with_a_next_step(rig: Rig) -> None:
    rig.engine.enter_code("ABCD-1234")
    rig.engine.settle()

    assert rig.engine.screen.phase is Phase.REFUSED
    assert rig.events.of(events.REFUSED)[0]["reason"] == "lookup_offline"
    assert rig.engine.screen.next_step.id


# -- temperature --------------------------------------------------------------------------------


def test_a_high_reading_rests_then_passes_on_the_retry(rig: Rig) -> None:
    rig.thermometer.set_object(38.0)
    rig.after_rest_c = 36.8

    screen = rig.checkin(rig.token("B0000010"))

    assert Phase.RESTING in [s.phase for s in rig.screens]
    assert screen.phase is Phase.TICKET
    outcome = rig.events.of(events.TEMPERATURE)[0]
    assert outcome == {"outcome": "passed", "attempts": 2, "kind": "booking", "threshold_c": 37.5}


def test_high_twice_is_a_referral_with_a_slip_and_no_ticket(rig: Rig) -> None:
    rig.thermometer.set_object(38.2)

    screen = rig.checkin(rig.token("B0000011"))

    assert screen.phase is Phase.REFERRED
    assert "175" in " ".join(screen.lines("id"))
    assert rig.events.of(events.TEMPERATURE)[0]["outcome"] == "referred"
    assert events.ACCEPTED not in rig.events.types()
    assert len(rig.printer.jobs) == 1  # the referral slip
    slip = rig.printer.jobs[0].data.decode("ascii", "replace")
    assert "dropbox" in slip
    assert "38" not in slip and "B0000011" not in slip  # no health data on paper
    assert not rig.ledger.is_checked_in("B0000011")  # may come back another day


def test_temperature_events_carry_the_outcome_only_by_default(rig: Rig) -> None:
    rig.checkin(rig.token("B0000012"))

    outcome = rig.events.of(events.TEMPERATURE)[0]
    assert "temperature_c" not in outcome and "booking_id" not in outcome


def test_privacy_config_can_add_the_reading_and_the_booking(tmp_path: Path) -> None:
    rig = make_rig(
        tmp_path,
        privacy={"store_temperature_readings": True, "link_temperature_to_booking": True},
    )
    rig.checkin(rig.token("B0000013"))

    outcome = rig.events.of(events.TEMPERATURE)[0]
    assert outcome["temperature_c"] == 36.6
    assert outcome["booking_id"] == "B0000013"
    rig.close()


def test_a_missing_sensor_gives_a_ticket_noting_a_manual_check_and_a_fault(rig: Rig) -> None:
    rig.thermometer.fail("missing")

    screen = rig.checkin(rig.token("B0000014"))

    assert screen.phase is Phase.TICKET
    assert any("petugas" in line for line in screen.lines("id"))
    assert rig.events.of(events.TEMPERATURE)[0]["reason"] == "sensor_fault"
    assert rig.events.of(events.ACCEPTED)[0]["temperature"] == "staff_check"
    assert {"component": "thermometer", "code": "missing", "active": True}.items() <= (
        rig.events.of(events.FAULT)[0].items()
    )


def test_a_missing_sensor_can_send_people_to_the_officer_instead(tmp_path: Path) -> None:
    rig = make_rig(tmp_path, thermometer={"on_unavailable": "refuse"})
    rig.thermometer.fail("missing")

    screen = rig.checkin(rig.token("B0000015"))

    assert screen.phase is Phase.REFUSED
    assert screen.title.id == "Suhu Anda belum dapat diukur"
    assert rig.printer.jobs == []
    rig.close()


# -- printer ------------------------------------------------------------------------------------


def test_paper_out_shows_the_number_on_screen_and_reports_a_fault(rig: Rig) -> None:
    rig.printer.paper_left = 0

    screen = rig.checkin(rig.token("B0000020"))

    assert screen.phase is Phase.TICKET
    assert screen.ticket is not None and not screen.ticket.printed
    assert screen.number == "JHT A1-001"
    assert "Foto atau catat nomor ini" in screen.next_step.id
    assert rig.printer.jobs == []
    assert rig.events.of(events.TICKET)[0]["delivery"] == "screen_only"
    assert rig.events.of(events.FAULT) == [
        {
            "component": "printer",
            "code": "paper_out",
            "active": True,
            "detail": "printer reports paper_out",
        }
    ]
    assert rig.engine.state()["alerts"] == ["printer: paper_out"]

    rig.next_participant()
    assert any("layar" in line for line in rig.engine.screen.lines("id"))  # idle warns
    rig.printer.paper_left = None  # paper loaded
    rig.checkin(rig.token("B0000021"))
    assert len(rig.printer.jobs) == 1
    assert rig.events.of(events.FAULT)[-1] == {
        "component": "printer",
        "code": "paper_out",
        "active": False,
    }


def test_a_silent_printer_is_unknown_not_ok_and_the_ticket_is_still_tried(rig: Rig) -> None:
    rig.printer.silent = True

    rig.checkin(rig.token("B0000022"))

    ticket = rig.events.of(events.TICKET)[0]
    assert ticket["printer_status"] == "unknown"
    assert ticket["delivery"] == "printed"


def test_a_failed_print_falls_back_to_the_screen(rig: Rig) -> None:
    rig.printer.fail_next("offline")

    screen = rig.checkin(rig.token("B0000023"))

    assert screen.ticket is not None and not screen.ticket.printed
    assert rig.events.of(events.TICKET)[0] == {
        "checkin_id": screen.checkin_id,
        "ticket_number": "JHT A1-001",
        "delivery": "screen_only",
        "printer_status": "ok",
        "fault_code": "offline",
    }


# -- durability and restarts ------------------------------------------------------------------


class _CrashingBook(TicketBook):
    def issue(self, checkin_id: str, **kwargs: Any) -> Issued:
        raise Crash


def test_a_stop_between_claim_and_number_measures_and_numbers_on_the_next_scan(
    tmp_path: Path,
) -> None:
    rig = make_rig(tmp_path)
    book = _CrashingBook(tmp_path / "kiosk-crash.db")
    token = rig.token("B0000030")
    rig.restart(book=book)
    with pytest.raises(Crash):
        rig.checkin(token)
    assert rig.ledger.is_checked_in("B0000030")
    book.close()

    rig.restart(book=TicketBook(rig.config.tickets.book_path))
    screen = rig.checkin(token)

    assert screen.phase is Phase.TICKET
    assert len(rig.printer.jobs) == 1
    assert len(rig.events.of(events.ACCEPTED)) == 1
    rig.close()


class _CrashOn:
    """An event sink that cuts the power when asked to record `type_name`."""

    def __init__(self, log: EventLog, type_name: str) -> None:
        self.log, self.type_name = log, type_name

    def record(self, type_name: str, payload: Mapping[str, Any], **how: Any) -> Any:
        if type_name == self.type_name:
            raise Crash
        return self.log.record(type_name, payload, **how)

    def publish_state(self, state: Mapping[str, Any]) -> None:
        self.log.publish_state(state)


def test_a_stop_before_the_accepted_event_reports_and_prints_once_on_the_next_scan(
    rig: Rig,
) -> None:
    token = rig.token("B0000031")
    rig.restart(events=_CrashOn(rig.events, events.ACCEPTED))
    with pytest.raises(Crash):
        rig.checkin(token)
    number = rig.book.for_booking("B0000031")
    assert number is not None and number.delivery is None

    rig.restart()
    screen = rig.checkin(token)

    assert screen.phase is Phase.TICKET
    assert screen.number == number.number  # the number it already had, not a new one
    assert len(rig.printer.jobs) == 1
    assert len(rig.events.of(events.ACCEPTED)) == 1


class _CrashingPrintClaim(TicketBook):
    def begin_printing(self, checkin_id: str) -> bool:
        raise Crash


def test_a_stop_after_the_accepted_event_keeps_it_one_event_on_the_next_scan(
    rig: Rig,
) -> None:
    token = rig.token("B0000034")
    book = _CrashingPrintClaim(tmp := rig.config.tickets.book_path)
    rig.restart(book=book)
    with pytest.raises(Crash):
        rig.checkin(token)  # the accepted event is recorded; the book never says so
    book.close()
    assert len(rig.events.of(events.ACCEPTED)) == 1

    rig.restart(book=TicketBook(tmp))
    screen = rig.checkin(token)

    assert screen.phase is Phase.TICKET
    assert len(rig.printer.jobs) == 1
    # Recorded again on resume under the same id (a new id would be a second event here, at
    # the outbox and at the back office): still one acceptance of this check-in.
    assert len(rig.events.of(events.ACCEPTED)) == 1


def test_a_stop_before_the_ticket_event_never_prints_twice_and_records_it_once(rig: Rig) -> None:
    token = rig.token("B0000032")
    rig.restart(events=_CrashOn(rig.events, events.TICKET))
    with pytest.raises(Crash):
        rig.checkin(token)
    assert len(rig.printer.jobs) == 1  # it printed, then the power went
    assert rig.events.of(events.TICKET) == []

    rig.restart()
    screen = rig.checkin(token)

    assert screen.phase is Phase.REFUSED
    assert screen.number == "JHT A1-001"  # shown again, not printed again
    assert len(rig.printer.jobs) == 1
    # The kiosk cannot know the paper came out: the number reached the participant on screen.
    [ticket] = rig.events.of(events.TICKET)
    assert (ticket["delivery"], ticket["printer_status"], ticket["fault_code"]) == (
        "screen_only",
        "unknown",
        "print_interrupted",
    )
    rig.next_participant()
    rig.checkin(token)  # shown again: settled once, not recorded again
    assert len(rig.events.of(events.TICKET)) == 1


class _CrashingDeliveryMark(TicketBook):
    """The power goes as the book is about to mark a ticket delivered (its event recorded)."""

    def mark_delivered(self, checkin_id: str, delivery: str) -> bool:
        raise Crash


def _tickets_in(outbox: Outbox) -> list[Envelope]:
    envelopes = [Envelope.from_json(row.body) for row in outbox.after(0, 1000)]
    return [e for e in envelopes if e.type == events.TICKET]


@pytest.mark.parametrize("sent_before_the_stop", [False, True])
def test_a_stop_between_the_ticket_event_and_its_delivery_mark_keeps_one_ticket_event(
    rig: Rig, tmp_path: Path, sent_before_the_stop: bool
) -> None:
    """GIVEN a kiosk stopped right after its outbox stored a ticket event, before the ticket
    book marked the ticket delivered (the ticket printed), WHEN the booking is shown after the
    restart THEN the number is shown, not printed again, and the ticket's event is the one it
    was: still pending in the outbox, or (sent and acknowledged already) recorded again under
    the same id, which the back office stores once."""
    token = rig.token("B0000035")
    path, device = tmp_path / "outbox.db", rig.config.uplink.device_id
    first = Outbox(path, device, clock=rig.clock)
    rig.restart(book=_CrashingDeliveryMark(rig.config.tickets.book_path),
                events=EventLog(outbox=first))  # fmt: skip
    with pytest.raises(Crash):
        rig.checkin(token)
    [recorded] = _tickets_in(first)
    assert recorded.payload["delivery"] == "printed"
    if sent_before_the_stop:
        first.ack([recorded.event_id])
    first.close()

    second = Outbox(path, device, clock=rig.clock)
    rig.restart(events=EventLog(outbox=second))
    screen = rig.checkin(token)
    rig.next_participant()
    rig.checkin(token)

    assert (screen.phase, screen.number) == (Phase.REFUSED, "JHT A1-001")
    assert len(rig.printer.jobs) == 1
    booked = rig.book.for_booking("B0000035")
    assert booked is not None and booked.delivery == "screen_only"
    pending = _tickets_in(second)
    if sent_before_the_stop:
        [again] = pending  # the settled event, under the id the back office already holds
        assert again.event_id == recorded.event_id
    else:
        assert pending == [recorded]  # the first one, as it was: "printed"
    second.close()


def test_a_stop_while_printing_never_prints_that_ticket_again(rig: Rig) -> None:
    class DiesMidPrint:
        def status(self) -> PaperStatus:
            return PaperStatus.OK

        def print_elements(self, elements: Sequence[Element]) -> None:
            raise Crash

    token = rig.token("B0000033")
    rig.restart(printer=DiesMidPrint())
    with pytest.raises(Crash):
        rig.checkin(token)

    rig.restart()
    screen = rig.checkin(token)

    assert screen.number == "JHT A1-001"
    assert rig.printer.jobs == []
    [ticket] = rig.events.of(events.TICKET)  # the settled one: shown on screen
    assert (ticket["delivery"], ticket["fault_code"]) == ("screen_only", "print_interrupted")


def test_a_walk_in_ticket_a_stop_interrupted_is_settled_once_when_the_kiosk_starts_again(
    rig: Rig,
) -> None:
    """GIVEN a walk-in's ticket being printed when the power went (no QR to come back with)
    WHEN the kiosk starts again THEN its first tick records the ticket's event, as shown on the
    printing screen with its tracking code, and marks it so: once, however often it restarts."""

    class DiesMidPrint:
        def status(self) -> PaperStatus:
            return PaperStatus.OK

        def print_elements(self, elements: Sequence[Element]) -> None:
            raise Crash

    rig.restart(printer=DiesMidPrint())
    with pytest.raises(Crash):
        rig.walkin("JKK")
    assert rig.events.of(events.TICKET) == []
    [accepted] = rig.events.of(events.ACCEPTED)

    for _ in range(2):
        rig.restart()
        rig.tick()

    [ticket] = rig.events.of(events.TICKET)
    assert ticket == {
        "checkin_id": accepted["checkin_id"],
        "ticket_number": accepted["ticket_number"],
        "delivery": "screen_only",
        "printer_status": "unknown",
        "fault_code": "print_interrupted",
        "walkin_code": tracking_code(accepted["checkin_id"], None),
    }
    assert rig.book.printing() == []
    assert rig.printer.jobs == []  # never printed again


def test_a_full_outbox_takes_the_kiosk_out_of_service_before_any_ticket(rig: Rig) -> None:
    rig.events.fail_with(OutboxFull("disk full"))

    screen = rig.checkin(rig.token("B0000034"))

    assert screen.phase is Phase.OUT_OF_SERVICE
    assert rig.printer.jobs == []
    assert rig.engine.state()["alerts"][-1].startswith("out of service")


def test_numbers_survive_a_restart_and_never_repeat(rig: Rig) -> None:
    rig.checkin(rig.token("B0000040"))
    rig.next_participant()
    rig.restart()
    screen = rig.checkin(rig.token("B0000041"))

    assert screen.number == "JHT A1-002"


def test_an_unsynced_clock_that_jumps_back_a_day_does_not_reuse_todays_numbers(rig: Rig) -> None:
    rig.checkin(rig.token("B0000042"))
    rig.next_participant()
    rig.clock.set_synced(False)
    rig.clock.advance(-86400)  # a reboot without network: the clock restored from yesterday

    screen = rig.walkin("JHT")

    assert screen.number == "JHT C1-001"
    assert rig.book.numbers(NOW.astimezone(rig.config.booking.zone).date().isoformat()) == [
        "JHT A1-001",
        "JHT C1-001",
    ]


def test_storage_errors_do_not_print_an_unrecorded_ticket(rig: Rig) -> None:
    rig.book.close()  # the ticket book's disk went away

    screen = rig.checkin(rig.token("B0000043"))

    assert screen.phase is Phase.OUT_OF_SERVICE
    assert rig.printer.jobs == []
    assert rig.ledger.is_checked_in("B0000043")  # claimed: the officer can see it was here
    rig.engine.cancel()
    rig.engine.start_walkin()
    rig.engine.settle()
    assert rig.engine.screen.phase is Phase.OUT_OF_SERVICE  # stays out until restarted


# -- walk-ins, capacity, numbering ------------------------------------------------------------


def test_a_walk_in_chooses_a_service_and_gets_a_regular_ticket(rig: Rig) -> None:
    rig.engine.start_walkin()
    rig.engine.settle()
    assert rig.engine.screen.phase is Phase.CHOOSE_SERVICE
    assert tuple(code for code, _label in rig.engine.screen.options) == ("JHT", "JKK", "JKM", "JP")

    screen = rig.walkin("JP")

    assert screen.number == "JP C1-001"
    accepted = rig.events.of(events.ACCEPTED)[-1]
    assert accepted["kind"] == "walkin" and "booking_id" not in accepted
    assert b"Umum (Tanpa Booking)" in rig.printer.jobs[-1].data


def test_a_walk_in_who_walks_away_returns_the_kiosk_to_the_welcome_screen(rig: Rig) -> None:
    rig.engine.start_walkin()
    rig.engine.settle()
    rig.clock.advance(rig.config.flow.choice_timeout_s + 1)
    rig.engine.settle()

    assert rig.engine.screen.phase is Phase.IDLE


def test_numbers_count_per_service_and_class(rig: Rig) -> None:
    numbers = [rig.checkin(rig.token("B0000050", service="JHT")).number]
    rig.next_participant()
    numbers.append(rig.walkin("JHT").number)
    rig.next_participant()
    numbers.append(rig.checkin(rig.token("B0000051", service="JHT")).number)
    rig.next_participant()
    numbers.append(rig.checkin(rig.token("B0000052", service="JKM")).number)

    assert numbers == ["JHT A1-001", "JHT C1-001", "JHT A1-002", "JKM A1-001"]


def test_a_full_office_tells_people_to_wait_outside(rig: Rig) -> None:
    rig.engine.occupancy.update(Occupancy(inside=37, capacity=37, at=NOW), NOW)
    rig.engine.refresh_idle()
    rig.engine.settle()
    assert rig.engine.screen.wait_outside

    screen = rig.checkin(rig.token("B0000060"))

    assert screen.wait_outside
    assert rig.events.of(events.ACCEPTED)[0]["wait_outside"] is True
    assert b"RUANGAN PENUH" in rig.printer.jobs[0].data


def test_an_old_occupancy_report_is_ignored(rig: Rig) -> None:
    old = NOW - timedelta(hours=2)
    rig.engine.occupancy.update(Occupancy(inside=40, capacity=37, at=old), old)

    screen = rig.checkin(rig.token("B0000061"))

    assert not screen.wait_outside


def test_people_ahead_come_from_the_branch_queue_when_it_is_published(rig: Rig) -> None:
    rig.engine.occupancy.update(Occupancy(10, 37, NOW, {"JHT": 7}), NOW)

    screen = rig.checkin(rig.token("B0000062"))

    assert "Antrean di depan Anda: 7" in screen.lines("id")


def test_a_broken_display_does_not_stop_check_ins(rig: Rig) -> None:
    def broken(_screen: object) -> None:
        raise RuntimeError("display gone")

    rig.engine.subscribe(broken)
    screen = rig.checkin(rig.token("B0000063"))

    assert screen.phase is Phase.TICKET


def test_state_has_summary_and_alerts_for_the_back_office(rig: Rig) -> None:
    rig.checkin(rig.token("B0000064"))

    state = rig.engine.state()

    assert state["summary"] == "1 tiket hari ini · tiket diberikan / 1 tickets today"
    assert state["alerts"] == []
    assert state["tickets_today"] == 1


def test_printer_errors_carry_a_fault_code() -> None:
    error = PrinterError("the printer is on fire", "on_fire")
    assert error.code == "on_fire" and isinstance(error, OSError)


def test_ticket_layout_has_a_tracking_qr_for_the_booking(rig: Rig) -> None:
    captured: list[Sequence[Element]] = []

    class Capture:
        def status(self) -> PaperStatus:
            return PaperStatus.OK

        def print_elements(self, elements: Sequence[Element]) -> None:
            captured.append(elements)

    rig.restart(printer=Capture())
    rig.checkin(rig.token("B0000065"))

    (qr,) = [e for e in captured[0] if isinstance(e, QrCode)]
    assert qr.content.endswith("ref=B0000065")


# -- typed booking codes ----------------------------------------------------------------------


def _looking_up(rig: Rig, booking_id: str) -> list[Callable[[], None]]:
    """An engine whose typed-code lookup finds `booking_id`'s token, run as a background job
    the test runs itself (the jobs are returned)."""
    token = rig.token(booking_id)
    verifier = build_verifier(rig.config.booking, ledger=rig.ledger)
    jobs: list[Callable[[], None]] = []
    rig.engine_with(lookup=lambda code, now: verifier.verify(token, now), background=jobs.append)
    return jobs


def test_a_typed_code_is_looked_up_off_the_engine_thread_then_checked_in(rig: Rig) -> None:
    jobs = _looking_up(rig, "B0000070")

    rig.engine.enter_code("B0000070")
    rig.engine.settle()
    assert rig.engine.screen.phase is Phase.CHECKING  # the network call has not answered yet
    rig.engine.scan(rig.token("B0000071"))  # a QR shown meanwhile is not acted on
    rig.engine.settle()
    assert rig.engine.screen.phase is Phase.CHECKING

    (job,) = jobs
    job()  # the lookup answers
    drive(rig.engine, rig.clock)
    screen = rig.engine.screen

    assert screen.phase is Phase.TICKET
    assert rig.events.of(events.ACCEPTED)[0]["booking_id"] == "B0000070"


def test_a_failing_lookup_still_answers_the_participant(rig: Rig) -> None:
    def broken(code: str, now: object) -> Verdict:
        raise ConnectionError("no route to host")

    jobs: list[Callable[[], None]] = []
    rig.engine_with(lookup=broken, background=jobs.append)
    rig.engine.enter_code("B0000072")
    rig.engine.settle()
    jobs[0]()
    rig.engine.settle()

    assert rig.engine.screen.phase is Phase.REFUSED
    assert rig.events.of(events.REFUSED)[0]["reason"] == "lookup_offline"


def test_a_printer_driver_bug_still_shows_the_number(rig: Rig) -> None:
    class Buggy:
        def status(self) -> PaperStatus:
            return PaperStatus.OK

        def print_elements(self, elements: Sequence[Element]) -> None:
            raise RuntimeError("driver bug")

    rig.restart(printer=Buggy())
    screen = rig.checkin(rig.token("B0000073"))

    assert screen.phase is Phase.TICKET and screen.ticket is not None and not screen.ticket.printed
    assert rig.events.of(events.TICKET)[0]["fault_code"] == "print_failed"


def test_an_unexpected_error_mid_flow_returns_to_the_welcome_screen(rig: Rig) -> None:
    class Exploding:
        def read(self) -> Reading:
            raise RuntimeError("unexpected")

    rig.thermometer.read = Exploding().read  # type: ignore[method-assign]
    rig.engine.scan(rig.token("B0000074"))
    rig.engine.settle()

    assert rig.engine.screen.phase is Phase.IDLE


def test_a_lookup_answer_after_the_participant_left_is_ignored(rig: Rig) -> None:
    jobs = _looking_up(rig, "B0000075")
    rig.engine.enter_code("B0000075")
    rig.engine.settle()
    rig.engine.cancel()
    rig.engine.settle()

    jobs[0]()
    rig.engine.settle()

    assert rig.engine.screen.phase is Phase.IDLE
    assert rig.thermometer.reads == 0


def test_the_engine_shows_the_booking_data_age_when_back_at_the_welcome_screen(
    tmp_path: Path,
) -> None:
    rig = make_rig(tmp_path)
    ages = iter([("Data lama.", "Old data."), ("Data baru.", "New data.")])
    rig.engine_with(data_age=lambda: next(ages))
    rig.checkin(rig.token("B0000077"))
    rig.next_participant()

    assert rig.engine.screen.lines("id")[-1] == "Data lama."
    assert rig.engine.screen.lines("en")[-1] == "Old data."
    rig.close()


def test_the_stores_raise_their_own_storage_errors(tmp_path: Path) -> None:
    book = TicketBook(tmp_path / "tickets.db")
    ledger = CheckinLedger(tmp_path / "ledger.db")
    book.close()
    ledger.close()

    with pytest.raises(TicketBookError, match=r"ticket book .*tickets\.db: cannot list numbers"):
        book.numbers("2026-06-15")
    with pytest.raises(LedgerError, match=r"check-in ledger .*ledger\.db: cannot record"):
        ledger.claim("B1", "kiosk-1", NOW)
    assert issubclass(TicketBookError, StoreError) and issubclass(LedgerError, OSError)


def test_a_broken_ledger_takes_the_kiosk_out_of_service_before_any_ticket(rig: Rig) -> None:
    rig.ledger.close()  # the ledger's disk went away

    screen = rig.checkin(rig.token("B0000044"))

    assert screen.phase is Phase.OUT_OF_SERVICE
    assert screen.reason == "storage"
    assert rig.printer.jobs == []
