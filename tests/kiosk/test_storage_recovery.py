"""A kiosk taken out of service by storage comes back by itself once it can write again."""

from __future__ import annotations

from kiosk.domain.screens import Phase
from kiosk.engine import STORAGE_RETRY_S
from tests.kiosk.rig import Rig
from uplink import OutboxFull, StorageError


def test_out_of_service_for_storage_until_a_write_succeeds_then_back_by_itself(rig: Rig) -> None:
    # GIVEN a full disk: the check-in is refused before any ticket
    rig.events.fail_with(OutboxFull("disk full"))
    assert rig.checkin(rig.token("B0000090")).phase is Phase.OUT_OF_SERVICE
    assert rig.printer.jobs == []

    # WHEN the retry comes and storage still fails THEN it stays out of service
    rig.events.fail_with(StorageError("disk I/O error"))
    rig.clock.advance(STORAGE_RETRY_S + 1)
    assert rig.tick().phase is Phase.OUT_OF_SERVICE

    # WHEN space returns THEN the next retry records the fault, begun and cleared, and the
    # kiosk serves again: the next participant gets a ticket
    rig.events.fail_with(None)
    rig.clock.advance(STORAGE_RETRY_S + 1)
    assert rig.tick().phase is Phase.IDLE
    faults = [p for name, p in rig.events.events if name == "device.fault"]
    assert [(f["component"], f["active"]) for f in faults] == [
        ("storage", True),
        ("storage", False),
    ]
    assert not rig.engine.out_of_service_reason
    screen = rig.checkin(rig.token("B0000091"))
    assert screen.phase is Phase.TICKET and len(rig.printer.jobs) == 1
