"""Messages a device receives are parsed once against the sender's schema: a bad one (retained,
replayed on every reconnect) is logged and reported once, ignored, and the device keeps serving."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from kiosk.runtime import Kiosk
from uplink import inbound, topics
from uplink.errors import MessageError

# The message: passes a schema whose "date-time" format nobody checked, then every
# occupancy comparison in the kiosk raised TypeError (a naive and an aware datetime).
NO_OFFSET = b'{"schema_version":1,"inside":12,"capacity":40,"at":"2026-11-30T15:50:00"}'
BAD_OCCUPANCY = {
    "no offset": NO_OFFSET,
    "1-digit year": b'{"inside": 1, "capacity": 40, "at": "1-01-01T00:00:00Z"}',
    "31 November": b'{"inside": 1, "capacity": 40, "at": "2026-11-31T00:00:00Z"}',
    "huge inside": b'{"inside": 1e300, "capacity": 40}',
    "NaN": b'{"inside": NaN, "capacity": 40}',
    "negative": b'{"inside": -1, "capacity": 40}',
    "waiting as text": b'{"inside": 1, "capacity": 40, "waiting": {"JHT": "many"}}',
    "deep": b'{"inside": 1, "capacity": 40, "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    "not UTF-8": b'{"inside": 1, "capacity": 40, "at": "\xff"}',
    "a list": b"[]",
}


@pytest.fixture
def faults(kiosk: Kiosk, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    recorded: list[dict[str, Any]] = []
    original = kiosk.uplink.record

    def record(type_name: str, payload: dict[str, Any], **how: Any) -> Any:
        if type_name == "device.fault":
            recorded.append(payload)
        return original(type_name, payload, **how)

    monkeypatch.setattr(kiosk.uplink, "record", record)
    return recorded


def test_a_retained_occupancy_without_offset_does_not_freeze_the_kiosk(
    kiosk: Kiosk, faults: list[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    topic = topics.occupancy(kiosk.config.booking.branch)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):  # retained: it comes back on every reconnect
            kiosk._occupancy(topic, NO_OFFSET)
            kiosk.step()
    assert kiosk.state()["office_full"] is False  # raised TypeError before
    assert kiosk.engine.occupancy.current(kiosk.clock.now()) is None
    assert len(faults) == 1 and faults[0]["code"] == "bad_inbound"
    assert "RFC 3339" in faults[0]["detail"]
    assert len([r for r in caplog.records if "occupancy" in r.getMessage()]) == 1
    # The kiosk keeps checking in: a walk-in goes on to choosing a service.
    kiosk.engine.start_walkin()
    kiosk.step()
    assert kiosk.state()["phase"] == "choose_service"


@pytest.mark.parametrize("name", BAD_OCCUPANCY)
def test_bad_occupancy_messages_are_ignored(
    kiosk: Kiosk, faults: list[dict[str, Any]], name: str
) -> None:
    topic = topics.occupancy(kiosk.config.booking.branch)
    kiosk._occupancy(topic, BAD_OCCUPANCY[name])
    kiosk.step()
    assert kiosk.state()["office_full"] is False
    assert len(faults) == 1
    # A good one afterwards still counts (with an offset, as the schema says).
    at = kiosk.clock.now().isoformat()
    good = {"inside": 50, "capacity": 40, "at": at}
    kiosk._occupancy(topic, json.dumps(good).encode())
    kiosk.step()
    assert kiosk.state()["office_full"] is True


@pytest.mark.parametrize(
    "raw",
    [
        b'{"collection_id": "c-1", "counted": -1}',
        b'{"collection_id": "c-1", "counted": "12"}',
        b'{"collection_id": "c-1", "counted": 1e300}',
        b'{"collection_id": "", "counted": 1}',
        b'{"collection_id": "c-1"}',
        b'{"collection_id": "c-1", "counted": 1, "extra": true}',
        b"\xff",
    ],
)
def test_bad_collection_counts_never_reach_the_dropbox(raw: bytes) -> None:
    reports: list[tuple[str, str]] = []
    got: list[inbound.CollectionCount] = []
    guard = inbound.InboundGuard(lambda what, why: reports.append((what, why)))
    handle = guard.handler("collection-count", inbound.parse_collection_count, got.append)
    for _ in range(2):
        handle("lapak/v1/dev/dropbox-1/cmd/collection-count", raw)
    handle("lapak/v1/dev/dropbox-1/cmd/collection-count", b"")  # a cleared retained command
    assert got == []
    assert len(reports) == 1
    handle("t", b'{"collection_id": "c-1", "counted": 12}')
    assert got == [inbound.CollectionCount("c-1", 12)]


def test_acks_are_parsed_against_the_ack_schema() -> None:
    assert inbound.parse_ack(b'{"schema_version": 1, "acked": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"]}') == (
        "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    )
    for raw in (b'{"schema_version": 1, "acked": ["ZZZZZZZZZZZZZZZZZZZZZZZZZZ"]}', b"{}", b"[1]"):
        with pytest.raises(MessageError):
            inbound.parse_ack(raw)
