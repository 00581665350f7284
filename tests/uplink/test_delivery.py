"""Events recorded on a device reach the back office's store once, and leave the outbox on ack."""

from __future__ import annotations

from backoffice.receiver import Receiver
from tests.conftest import UplinkFactory


def test_recorded_events_are_stored_once_and_removed_from_the_outbox(
    backoffice: Receiver, make_uplink: UplinkFactory
) -> None:
    uplink = make_uplink("kiosk-1")
    ids = [uplink.record("device.probe", {"purpose": "test", "n": i}).event_id for i in range(200)]

    assert uplink.wait_drained(20)
    assert sorted(backoffice.store.event_ids()) == sorted(ids)  # type: ignore[attr-defined]
    assert uplink.outbox.pending() == 0
