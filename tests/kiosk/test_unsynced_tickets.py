"""A kiosk whose clock is not synchronised says so on the paper and in every event it records:
the ticket's time is marked doubtful and the envelopes carry `clock_synced: false`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.domain.screens import Phase
from kiosk.domain.tickets import UNSYNCED_MARK
from receipts import lines_of
from tests.kiosk.rig import Rig, make_rig
from uplink import ManualClock
from uplink.outbox import Outbox
from uplink.sink import EventLog


def with_outbox(tmp_path: Path) -> tuple[Rig, Outbox]:
    """A rig whose engine records into a real outbox stamping envelopes from the rig's clock."""
    rig = make_rig(tmp_path)
    outbox = Outbox(tmp_path / "outbox.db", rig.config.uplink.device_id, clock=rig.clock)
    rig.engine_with(events=EventLog(outbox=outbox))
    return rig, outbox


@pytest.mark.parametrize("synced", [False, True])
def test_tickets_and_their_events_carry_the_clock_state(tmp_path: Path, synced: bool) -> None:
    """GIVEN a kiosk whose clock is (not) synchronised
    WHEN a booking and a walk-in check in
    THEN each printed ticket marks its time as doubtful exactly when the clock is not synced,
    and the check-in and ticket events (as the back office receives them) say the same."""
    rig, outbox = with_outbox(tmp_path)
    clock: ManualClock = rig.clock
    clock.set_synced(synced)

    assert rig.checkin(rig.token("B0000042")).phase is Phase.TICKET
    rig.next_participant()
    assert rig.walkin("JKK").phase is Phase.TICKET

    tickets = [lines_of(job.elements) for job in rig.printer.jobs]
    assert len(tickets) == 2
    for lines in tickets:
        assert (UNSYNCED_MARK.id in lines) is (not synced)
        assert (UNSYNCED_MARK.en in lines) is (not synced)
    sent = [json.loads(row.body) for row in outbox.after(0, 1000)]
    kinds = {envelope["type"] for envelope in sent}
    assert {"kiosk.checkin.accepted", "kiosk.ticket.issued"} <= kinds, kinds
    assert {envelope["clock_synced"] for envelope in sent} == {synced}
    outbox.close()
    rig.close()


def test_the_mark_follows_the_clock_from_one_ticket_to_the_next(tmp_path: Path) -> None:
    """NTP answers between two arrivals: the first ticket is marked, the second is not."""
    rig, outbox = with_outbox(tmp_path)
    rig.clock.set_synced(False)
    rig.walkin("JHT")
    rig.next_participant()
    rig.clock.set_synced(True)
    rig.walkin("JHT")
    first, second = (lines_of(job.elements) for job in rig.printer.jobs)
    assert UNSYNCED_MARK.id in first and UNSYNCED_MARK.id not in second
    tickets = [
        json.loads(row.body)
        for row in outbox.after(0, 1000)
        if json.loads(row.body)["type"] == "kiosk.ticket.issued"
    ]
    assert [envelope["clock_synced"] for envelope in tickets] == [False, True]
    outbox.close()
    rig.close()
