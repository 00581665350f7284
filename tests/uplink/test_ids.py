"""Event ids: a fact recorded twice keeps its one id."""

from __future__ import annotations

from uplink.ids import EVENT_ID_PATTERN, derived_event_id, event_id_time_ms


def test_a_derived_id_is_the_same_for_one_fact_and_differs_between_facts() -> None:
    at_ms = 1_764_550_000_123
    one = derived_event_id("c0ffee/kiosk.checkin.accepted", at_ms)

    assert one == derived_event_id("c0ffee/kiosk.checkin.accepted", at_ms)
    assert EVENT_ID_PATTERN.fullmatch(one)
    assert event_id_time_ms(one) == at_ms
    assert one != derived_event_id("c0ffee/kiosk.ticket.issued", at_ms)
    assert one != derived_event_id("c0ffef/kiosk.checkin.accepted", at_ms)
