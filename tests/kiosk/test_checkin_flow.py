"""The check-in flow's decisions, pure: no SQLite, camera, printer, clock or thread."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kiosk.booking import Booking
from kiosk.booking.reasons import verdict
from kiosk.domain import checkin as flow
from kiosk.domain import events, screens
from kiosk.domain.checkin import AfterGate, AfterVerdict, BookedCheckin, Resume
from kiosk.domain.screens import STAFF_CHECK_NOTE, Phase
from kiosk.domain.temperature import (
    GatePhase,
    GateResult,
    Outcome,
    Reading,
    TemperatureGate,
    TemperaturePolicy,
)
from kiosk.domain.tickets import Ticket, served_before_or_with
from uplink.booking import codes
from uplink.messages import catalog

SLOT = datetime(2026, 6, 15, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
BOOKING = Booking("B1", "kcp-demo", "JKK", "online", 1, SLOT, SLOT + timedelta(hours=1), "B***")
COLLECTIVE = replace(BOOKING, booking_id="B2", channel="collective", party_size=12)
BOOKED = BookedCheckin("c1", "2026-06-15", "JKK", "online", "JKK A1-001", SLOT, "passed", True,
                       None, "B1")  # fmt: skip
TICKET = Ticket("c1", "JKK A1-001", "JKK", "online", "KCP Demo", SLOT, "B1", "https://x/?ref=B1")


# -- phases and verdicts -------------------------------------------------------------------------


@pytest.mark.parametrize("phase", list(Phase), ids=str)
def test_a_code_starts_a_check_in_only_on_the_welcome_and_result_screens(phase: Phase) -> None:
    expected = phase in {Phase.IDLE, Phase.REFUSED, Phase.REFERRED, Phase.TICKET}
    assert flow.accepts_scan(phase) is expected


def test_a_verdict_leads_to_measuring_resuming_or_refusing() -> None:
    assert flow.after_verdict(verdict("ok", BOOKING)) is AfterVerdict.MEASURE
    assert flow.after_verdict(verdict("already_checked_in", BOOKING)) is AfterVerdict.RESUME
    assert flow.after_verdict(verdict("already_checked_in")) is AfterVerdict.REFUSE
    assert flow.after_verdict(verdict("wrong_branch", BOOKING)) is AfterVerdict.REFUSE
    assert flow.after_verdict(verdict("bad_signature")) is AfterVerdict.REFUSE


def test_bookings_get_their_priority_class_and_walk_ins_choose_later() -> None:
    assert flow.booking_checkin("c", BOOKING).klass == "online"
    assert flow.booking_checkin("c", COLLECTIVE).klass == "collective"
    walkin = flow.walkin_checkin("w")
    assert (walkin.kind, walkin.klass, walkin.service, walkin.booking_id) == (
        "walkin",
        "walkin",
        None,
        None,
    )


# -- the crash-resume table ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delivery", "claimed_here", "expected"),
    [
        (None, True, Resume.DELIVER),  # numbered, nothing delivered: deliver that number
        ("printing", True, Resume.SETTLE),  # maybe printed: its event, never a second ticket
        ("printed", True, Resume.SHOW),
        ("screen_only", True, Resume.SHOW),
    ],
)
def test_a_numbered_check_in_is_delivered_once_or_shown_again(
    delivery: str | None, claimed_here: bool, expected: Resume
) -> None:
    assert flow.resume(replace(BOOKED, delivery=delivery), claimed_here=claimed_here) is expected


def test_a_ticket_a_stop_interrupted_is_settled_as_shown_on_screen_with_an_unknown_printer() -> (
    None
):
    interrupted = replace(BOOKED, delivery="printing")

    type_name, payload = flow.interrupted_ticket_event(interrupted)

    assert type_name == events.TICKET
    assert payload == {
        "checkin_id": BOOKED.checkin_id,
        "ticket_number": BOOKED.number,
        "delivery": "screen_only",  # what the resume shows; the paper is anybody's guess
        "printer_status": "unknown",
        "fault_code": "print_interrupted",
    }
    catalog().validate_payload(catalog().get(type_name), payload)


def test_a_walk_in_ticket_a_stop_interrupted_carries_its_tracking_code_as_its_ticket_did() -> None:
    walkin = replace(BOOKED, checkin_id="0123456789abcdef", delivery="printing", booking_id=None)

    _, payload = flow.interrupted_ticket_event(walkin)

    assert payload["walkin_code"] == codes.walkin_code("0123456789abcdef")
    catalog().validate_payload(catalog().get(events.TICKET), payload)


def test_a_claim_without_a_number_is_measured_only_when_it_is_this_kiosks() -> None:
    assert flow.resume(None, claimed_here=True) is Resume.MEASURE
    assert flow.resume(None, claimed_here=False) is Resume.NONE


def test_a_resumed_staff_check_keeps_its_note() -> None:
    assert flow.resumed_temperature(BOOKED) == ("passed", ())
    staff = replace(BOOKED, temperature="staff_check")
    assert flow.resumed_temperature(staff) == ("staff_check", (STAFF_CHECK_NOTE,))


# -- after the temperature gate -------------------------------------------------------------------


def test_the_gate_outcome_decides_ticket_staff_check_officer_or_referral() -> None:
    assert flow.after_gate(Outcome.PASSED, "refuse") is AfterGate.ISSUE
    assert flow.after_gate(Outcome.UNAVAILABLE, "staff_check") is AfterGate.ISSUE_STAFF_CHECK
    assert flow.after_gate(Outcome.UNAVAILABLE, "refuse") is AfterGate.SEND_TO_OFFICER
    assert flow.after_gate(Outcome.REFERRED, "staff_check") is AfterGate.REFER


def test_a_referral_ends_with_its_screen_and_no_event_of_its_own() -> None:
    ending = flow.referral(flow.booking_checkin("c3", BOOKING), GateResult(Outcome.REFERRED, 2, 38))

    assert ending.events == ()
    assert (ending.result.phase, ending.result.reason) == (Phase.REFERRED, "temperature")
    assert (ending.screen.phase, ending.screen.reason, ending.hold) == (
        Phase.REFERRED,
        "temperature",
        "message",
    )


def test_temperature_events_carry_the_booking_only_when_configured() -> None:
    checkin = flow.booking_checkin("c4", BOOKING)
    result = GateResult(Outcome.PASSED, 1, 36.6)

    plain = flow.temperature_event(
        checkin, result, threshold_c=37.5, store_reading=False, link_booking=False
    )
    linked = flow.temperature_event(
        checkin, result, threshold_c=37.5, store_reading=True, link_booking=True
    )

    assert plain == (
        events.TEMPERATURE,
        {"outcome": "passed", "attempts": 1, "kind": "booking", "threshold_c": 37.5},
    )
    assert linked[1]["booking_id"] == "B1" and linked[1]["temperature_c"] == 36.6


# -- endings and events --------------------------------------------------------------------------


def test_a_refusal_records_its_reason_with_the_booking_only_when_verified() -> None:
    forged = flow.refusal(verdict("bad_signature"))
    elsewhere = flow.refusal(verdict("wrong_branch", BOOKING))

    assert forged.events == ((events.REFUSED, {"stage": "booking", "reason": "bad_signature"}),)
    assert elsewhere.events[0][1] == {
        "stage": "booking",
        "reason": "wrong_branch",
        "booking_id": "B1",
        "service": "JKK",
    }
    assert (elsewhere.result.phase, elsewhere.screen.reason) == (Phase.REFUSED, "wrong_branch")


def test_an_already_claimed_booking_shows_the_number_it_got_here() -> None:
    ending = flow.already_claimed(BOOKING, "c1", number="JKK A1-001")

    assert ending.result == flow.CheckinResult(
        "c1", Phase.REFUSED, "JKK A1-001", reason="already_checked_in"
    )
    assert ending.screen.number == "JKK A1-001"
    assert ending.events[0][1]["reason"] == "already_checked_in"


def test_the_accepted_event_names_class_party_and_temperature() -> None:
    checkin = flow.booking_checkin("c5", COLLECTIVE)

    type_name, payload = flow.accepted_event(
        checkin, "JKK B1-001", wait_outside=True, temperature="staff_check"
    )

    assert type_name == events.ACCEPTED
    assert payload == {
        "checkin_id": "c5",
        "kind": "booking",
        "priority_class": "collective",
        "service": "JKK",
        "ticket_number": "JKK B1-001",
        "party_size": 12,
        "wait_outside": True,
        "temperature": "staff_check",
        "booking_id": "B2",
    }
    with pytest.raises(ValueError, match="service"):
        flow.accepted_event(flow.walkin_checkin("w"), "X", wait_outside=False, temperature="passed")


# -- delivery and faults -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "print_fault", "delivery", "event_fault", "printer_fault"),
    [
        ("ok", None, "printed", None, None),
        ("unknown", None, "printed", None, None),  # a silent printer is still tried
        ("paper_low", None, "printed", None, "paper_low"),
        ("paper_out", None, "screen_only", "paper_out", "paper_out"),
        ("offline", None, "screen_only", "offline", "offline"),
        ("ok", "hung", "screen_only", "hung", "hung"),
    ],
)
def test_how_a_ticket_reached_the_participant_and_which_fault_is_reported(
    status: str, print_fault: str | None, delivery: str, event_fault: str | None,
    printer_fault: str | None,
) -> None:  # fmt: skip
    assert flow.should_print(status) is (status not in {"paper_out", "offline"})
    assert flow.delivery_of(status, print_fault) == (delivery, event_fault)
    assert flow.printer_fault(status, event_fault) == printer_fault


def test_the_ticket_event_says_how_it_was_delivered() -> None:
    booked = replace(TICKET, booking_id="B1")  # a walk-in's carries its code too (below)
    assert flow.ticket_event(booked, "screen_only", "paper_out", "paper_out") == (
        events.TICKET,
        {
            "checkin_id": "c1",
            "ticket_number": "JKK A1-001",
            "delivery": "screen_only",
            "printer_status": "paper_out",
            "fault_code": "paper_out",
        },
    )


def test_a_walk_in_ticket_event_carries_its_tracking_code() -> None:
    walkin = replace(TICKET, booking_id=None, track_ref="7K3QX9M2A")
    _type, payload = flow.ticket_event(walkin, "printed", "ok", None)
    assert payload["walkin_code"] == "7K3QX9M2A"
    booked = replace(TICKET, booking_id="B1")
    assert "walkin_code" not in flow.ticket_event(booked, "printed", "ok", None)[1]


def test_a_fault_change_clears_the_old_one_and_begins_the_new_one() -> None:
    assert flow.fault_change("printer", None, None) == ()
    assert flow.fault_change("printer", "paper_out", "paper_out") == ()
    assert [p["active"] for _t, p in flow.fault_change("printer", "paper_out", "hung", "x")] == [
        False,
        True,
    ]
    assert flow.fault_change("printer", None, "hung", "no answer")[0][1] == {
        "component": "printer",
        "code": "hung",
        "active": True,
        "detail": "no answer",
    }


def test_people_ahead_prefer_the_branch_queue_then_this_kiosks_count() -> None:
    assert flow.people_ahead(7, 3) == 7
    assert flow.people_ahead(None, 3) == 2  # the count includes the new ticket
    assert flow.people_ahead(None, 0) == 0
    assert flow.people_ahead(None, None) is None


def test_storage_that_works_again_records_its_fault_begun_and_cleared() -> None:
    assert flow.storage_fault_overcome("since 09:00") == (
        (events.FAULT, {"component": "storage", "code": "unwritable", "active": True,
                        "detail": "since 09:00"}),
        (events.FAULT, {"component": "storage", "code": "unwritable", "active": False,
                        "detail": "since 09:00"}),
    )  # fmt: skip


# -- the ticket and the screens' times ------------------------------------------------------------


def test_a_tickets_text_comes_from_its_check_in_and_the_branch() -> None:
    """GIVEN a collective booking's check-in WHEN its ticket is made THEN it carries the
    booking's name, party and code, the branch's time and the notes' Indonesian text."""
    checkin = flow.booking_checkin("c2", COLLECTIVE)
    issued_at = datetime(2026, 6, 15, 2, 30, tzinfo=UTC)
    ticket = flow.ticket_for(
        checkin, "JKK B1-004", branch_name="KCP Demo", issued_at=issued_at,
        zone=ZoneInfo("Asia/Jakarta"), track_url="https://x/lacak?ref={ref}", people_ahead=3,
        wait_outside=True, notes=(STAFF_CHECK_NOTE,), clock_synced=False,
    )  # fmt: skip
    assert (ticket.number, ticket.service, ticket.klass) == ("JKK B1-004", "JKK", "collective")
    assert (ticket.booking_id, ticket.track_ref, ticket.track_url) == (
        "B2", "B2", "https://x/lacak?ref=B2"
    )  # fmt: skip
    assert (ticket.masked_name, ticket.party_size, ticket.people_ahead) == ("B***", 12, 3)
    assert ticket.issued_at.isoformat() == "2026-06-15T09:30:00+07:00"
    assert ticket.notes == (STAFF_CHECK_NOTE.id,) and ticket.wait_outside
    assert not ticket.clock_synced


def test_a_walk_in_ticket_is_tracked_by_a_code_of_its_check_in() -> None:
    walkin = flow.walkin_checkin("0123456789abcdef")
    with pytest.raises(ValueError, match="service"):
        flow.ticket_for(
            walkin, "JHT C1-001", branch_name="KCP Demo", issued_at=SLOT, zone=UTC,
            track_url="{ref}", people_ahead=None, wait_outside=False, notes=(), clock_synced=True,
        )  # fmt: skip
    walkin.service = "JHT"
    ticket = flow.ticket_for(
        walkin, "JHT C1-001", branch_name="KCP Demo", issued_at=SLOT, zone=UTC,
        track_url="{ref}", people_ahead=None, wait_outside=False, notes=(), clock_synced=True,
    )  # fmt: skip
    assert ticket.booking_id is None and ticket.masked_name is None and ticket.party_size == 1
    assert ticket.track_ref == ticket.track_url == codes.walkin_code("0123456789abcdef")


def test_walk_ins_count_every_ticket_ahead_and_online_bookings_only_their_own() -> None:
    assert served_before_or_with("online") == ["online"]
    assert served_before_or_with("collective") == ["online", "collective"]
    assert served_before_or_with("walkin") == ["online", "collective", "walkin"]


def test_the_welcome_screen_says_no_paper_only_when_tickets_cannot_print() -> None:
    assert flow.out_of_paper("paper_out") and flow.out_of_paper("offline")
    assert not flow.out_of_paper("paper_low") and not flow.out_of_paper(None)


def test_each_held_screen_stays_its_own_time() -> None:
    times = {"ticket_s": 15.0, "choice_s": 30.0, "message_s": 12.0}
    assert flow.hold_seconds("ticket", **times) == 15.0
    assert flow.hold_seconds("choice", **times) == 30.0
    assert flow.hold_seconds("message", **times) == 12.0


# -- the temperature gate's screens ---------------------------------------------------------------


def _gate() -> TemperatureGate:
    return TemperatureGate(TemperaturePolicy(stable_samples=1, sample_interval_s=0.0), now=0.0)


def test_the_gate_shows_the_measuring_screen_and_a_new_one_only_when_its_state_changes() -> None:
    checkin, gate = flow.booking_checkin("c5", BOOKING), _gate()

    first = flow.gate_screen(checkin, gate)

    assert first.phase is Phase.MEASURING
    assert first.deadline == gate.deadline()
    assert flow.gate_screen(checkin, gate) == first  # nothing new to say: nothing new shown
    gate.present = True
    assert flow.gate_screen(checkin, gate) != first


def test_a_rest_shows_its_screen_until_the_second_attempt_which_says_so() -> None:
    checkin, gate = flow.booking_checkin("c6", BOOKING), _gate()
    gate.feed(Reading(37.9, 25.0), now=1.0)  # above the threshold once: rest
    assert gate.phase is GatePhase.RESTING

    resting = flow.gate_screen(checkin, gate)

    assert resting.phase is Phase.RESTING
    assert resting.deadline == 1.0 + gate.policy.retry_rest_s
    assert flow.gate_screen(checkin, gate) == resting  # its countdown runs on
    gate.poll(now=1.0 + gate.policy.retry_rest_s)
    again = flow.gate_screen(checkin, gate)
    assert again.phase is Phase.MEASURING
    assert again.body[0].en == "Measuring again after the rest."


def test_only_a_collective_booking_shows_its_party_while_measuring() -> None:
    collective = flow.booking_checkin("c7", COLLECTIVE)

    screen = flow.gate_screen(collective, _gate())

    assert flow.party_of(collective) == screens.Party(COLLECTIVE.masked_name, 12)
    assert screen.party == flow.party_of(collective)
    assert flow.party_of(flow.booking_checkin("c8", BOOKING)) is None
    assert flow.party_of(flow.walkin_checkin("w2")) is None


# -- the referral slip ---------------------------------------------------------------------------


def test_the_referral_slip_says_where_when_why_and_what_to_do_in_the_branch_time() -> None:
    at = datetime(2026, 6, 15, 2, 30, tzinfo=UTC)

    slip = flow.referral_slip(
        branch_name="KCP Demo",
        referred_at=at,
        zone=ZoneInfo("Asia/Jakarta"),
        reason="temperature",
        clock_synced=False,
    )

    assert (slip.branch_name, slip.reason, slip.clock_synced) == ("KCP Demo", "temperature", False)
    assert slip.issued_at.hour == 9 and slip.issued_at == at  # 09:30 WIB, the same instant
    assert slip.steps == (*screens.REFERRAL_STEPS, screens.GET_WELL)
