"""Events recorded on a device reach the back office's store once, and leave the outbox on ack."""

from __future__ import annotations

import pytest

from backoffice.receiver import Receiver
from tests.conftest import STORE_KINDS, UplinkFactory, queries


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_recorded_events_are_stored_once_and_removed_from_the_outbox(
    backoffice: Receiver, make_uplink: UplinkFactory
) -> None:
    uplink = make_uplink("kiosk-1")
    ids = [uplink.record("device.probe", {"purpose": "test", "n": i}).event_id for i in range(200)]

    assert uplink.wait_drained(20)
    assert sorted(queries(backoffice).event_ids()) == sorted(ids)
    assert uplink.outbox.pending() == 0
