"""Batched event messages (uplink.batches): how they are cut, joined, read and offered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from uplink import ManualClock, Outbox, batches
from uplink.errors import MessageError
from uplink.messages import Envelope
from uplink.outbox import Row


def rows(*sizes: int) -> list[Row]:
    return [Row(n, f"e{n}", b"x" * size) for n, size in enumerate(sizes, 1)]


def test_groups_keep_order_and_both_bounds() -> None:
    many = rows(*[100] * 7)
    assert [len(g) for g in batches.groups(many, 3)] == [3, 3, 1]
    assert [len(g) for g in batches.groups(many, 1)] == [1] * 7
    half = batches.BATCH_MAX_BYTES // 2
    big = rows(half, half, 10, batches.BATCH_MAX_BYTES * 2, 10)
    cut = list(batches.groups(big, 100))
    assert [[row.seq for row in g] for g in cut] == [[1], [2, 3], [4], [5]]
    assert all(len(batches.join([r.body for r in g])) <= batches.BATCH_MAX_BYTES for g in cut[:2])
    assert [row.seq for g in cut for row in g] == [1, 2, 3, 4, 5]


def test_a_joined_batch_reads_back_as_the_stored_envelopes(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db", "kiosk-1", clock=ManualClock())
    for n in range(3):
        outbox.record("device.probe", {"purpose": "test", "n": n})
    stored = outbox.after(0, 10)
    one = batches.join([stored[0].body])
    assert one == stored[0].body  # a single event stays a plain envelope
    joined = batches.join([row.body for row in stored])
    items = batches.items(json.loads(joined))
    assert [Envelope.from_data(item).event_id for item in items] == [r.event_id for r in stored]
    assert batches.items(json.loads(one)) == [json.loads(one)]


@pytest.mark.parametrize("data", [[], [{}] * (batches.BATCH_MAX_EVENTS + 1)])
def test_an_empty_or_oversized_batch_is_refused_in_one_line(data: object) -> None:
    with pytest.raises(MessageError, match=r"an event message is one envelope or an array of 1"):
        batches.items(data)


def with_user(*pairs: tuple[str, str]) -> Properties:
    properties = Properties(PacketTypes.PUBLISH)
    for pair in pairs:
        properties.UserProperty = pair
    return properties


@pytest.mark.parametrize(
    ("properties", "offered"),
    [
        (None, 1),
        (Properties(PacketTypes.PUBLISH), 1),
        (batches.ack_properties(), batches.BATCH_MAX_EVENTS),
        (batches.ack_properties(7), 7),
        (with_user(("other", "50")), 1),
        (with_user((batches.BATCH_MAX_PROPERTY, "0")), 1),
        (with_user((batches.BATCH_MAX_PROPERTY, "-5")), 1),
        (with_user((batches.BATCH_MAX_PROPERTY, "²")), 1),  # a digit to str.isdigit, not to int
        (with_user((batches.BATCH_MAX_PROPERTY, "9" * 5000)), batches.BATCH_MAX_EVENTS),
        (with_user((batches.BATCH_MAX_PROPERTY, "5"), (batches.BATCH_MAX_PROPERTY, "6")), 1),
    ],
)
def test_what_an_ack_offers_is_read_safely(properties: Properties | None, offered: int) -> None:
    assert batches.offered_max(properties) == offered
