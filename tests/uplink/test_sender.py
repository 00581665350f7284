"""The sender's bookkeeping on a manual clock, with a fake MQTT publish (no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from uplink import ManualClock, Outbox, UplinkConfig
from uplink.sender import FIRST_ACK_TIMEOUT_S, HANDED_WINDOWS, Sender, UplinkStats

OK = ReasonCode(PacketTypes.PUBACK, "Success")
DENIED = ReasonCode(PacketTypes.PUBACK, "Not authorized")


class Wire:
    """Stands in for paho: remembers what was published and hands out message ids."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.up = True

    def publish(self, body: bytes) -> int | None:
        if not self.up:
            return None
        self.sent.append(body)
        return len(self.sent)


def rig(tmp_path: Path, **config: object) -> tuple[Sender, Outbox, Wire, ManualClock, UplinkStats]:
    clock = ManualClock()
    outbox = Outbox(tmp_path / "o.db", "kiosk-1", clock=clock)
    cfg = UplinkConfig.model_validate(
        {
            "device_id": "kiosk-1",
            "broker": {"host": "127.0.0.1", "port": 1883, "tls": False},
            "outbox_path": tmp_path / "o.db",
            **config,
        }
    )
    wire, stats = Wire(), UplinkStats()
    sender = Sender(outbox, wire.publish, clock, cfg, stats)
    sender.new_session()
    return sender, outbox, wire, clock, stats


def record(outbox: Outbox, count: int) -> list[str]:
    return [
        outbox.record("device.probe", {"purpose": "test", "n": n}).event_id for n in range(count)
    ]


def test_sends_in_order_within_the_windows(tmp_path: Path) -> None:
    sender, outbox, wire, _, _ = rig(tmp_path, inflight_window=2)
    assert HANDED_WINDOWS * 2 == 8  # what paho may hold without a PUBACK, below
    ids = record(outbox, 20)
    sender.send()
    assert len(wire.sent) == 2  # slow start: two unacked by the back office is the limit
    for mid in (1, 2):
        sender.on_puback(mid, OK)
    sender.send()
    assert len(wire.sent) == 2  # PUBACKs free paho's slots, not the back office's window
    for event_id in ids[:2]:
        outbox.ack([event_id])
        sender.on_acked(event_id)
    sender.send()
    assert len(wire.sent) == 6  # two app acks widened the window to four unacked
    for event_id in ids[2:6]:
        outbox.ack([event_id])
        sender.on_acked(event_id)
    sender.send()
    # The window is eight now with none unacked, but paho holds four publishes without a
    # PUBACK and is handed at most eight: only four more leave.
    assert len(wire.sent) == 10
    assert [b'"seq":%d' % n in body for n, body in enumerate(wire.sent, 1)] == [True] * 10


def test_unacked_events_are_resent_with_the_same_id_and_acked_ones_never(tmp_path: Path) -> None:
    sender, outbox, wire, clock, stats = rig(tmp_path, inflight_window=8)
    ids = record(outbox, 3)
    sender.send()
    for mid in (1, 2, 3):
        sender.on_puback(mid, OK)
    outbox.ack([ids[0]])
    sender.on_acked(ids[0])
    clock.advance(FIRST_ACK_TIMEOUT_S + 0.01)
    sender.send()
    resent = wire.sent[3:]
    assert len(resent) == 2 and stats.resent == 2
    assert [ids[1].encode() in resent[0], ids[2].encode() in resent[1]] == [True, True]


def test_a_new_session_walks_the_outbox_again(tmp_path: Path) -> None:
    sender, outbox, wire, _, _ = rig(tmp_path)
    record(outbox, 2)
    sender.send()
    sender.new_session()
    sender.send()
    assert len(wire.sent) == 4  # both again: nothing was acked


def test_a_denied_publish_is_counted_and_the_event_kept(tmp_path: Path) -> None:
    sender, outbox, _, _, stats = rig(tmp_path)
    record(outbox, 1)
    sender.send()
    sender.on_puback(1, DENIED)
    assert stats.denied == 1 and stats.last_denied_reason == 135
    assert outbox.pending() == 1


def test_nothing_is_lost_when_the_client_cannot_queue(tmp_path: Path) -> None:
    sender, outbox, wire, _, _ = rig(tmp_path)
    record(outbox, 3)
    wire.up = False
    sender.send()
    assert wire.sent == []
    wire.up = True
    sender.send()
    assert len(wire.sent) == 3


def test_it_says_when_acks_not_paho_hold_back_the_next_send(tmp_path: Path) -> None:
    # The uplink wakes the sender on an ack only while this says so (see Uplink._handle_ack).
    sender, outbox, wire, _, _ = rig(tmp_path, inflight_window=2, max_unacked=100)
    ids = record(outbox, 40)
    sender.send()
    assert len(wire.sent) == 2 and sender.waits_for_acks()  # slow start: the unacked window
    for event_id in ids[:2]:
        outbox.ack([event_id])
        sender.on_acked(event_id)
    for mid in (1, 2):
        sender.on_puback(mid, OK)
    for _ in range(3):  # widen the window well past what paho is handed
        sender.send()
        for mid in range(1, len(wire.sent) + 1):
            sender.on_puback(mid, OK)
        for event_id in ids[: len(wire.sent)]:
            if outbox.ack([event_id]):
                sender.on_acked(event_id)
    sender.send()
    assert len(wire.sent) < 40  # still more to send: paho's share is what is full now
    assert not sender.waits_for_acks()


def test_once_batches_are_offered_consecutive_events_share_a_publish_and_resends_go_alone(
    tmp_path: Path,
) -> None:
    """GIVEN a back office that reads batches of up to 4 (uplink.batches) WHEN 10 events wait
    THEN they leave as JSON arrays of the stored envelopes, in order, each counted; paho's
    limit counts publishes, the window events; an expired event comes back alone."""
    sender, outbox, wire, clock, stats = rig(tmp_path, inflight_window=2, max_unacked=10)
    ids = record(outbox, 10)
    sender.send()
    assert len(wire.sent) == 2  # singles until the back office says more (slow start: 2)
    for n, event_id in enumerate(ids[:2], 1):
        sender.on_puback(n, OK)
        outbox.ack([event_id])
        sender.on_acked(event_id)
    sender.batch_max = 4
    sender.send()  # the window is 4 events now: one batch of 4
    assert len(wire.sent) == 3
    batch = json.loads(wire.sent[2])
    assert [item["event_id"] for item in batch] == ids[2:6]
    assert wire.sent[2] == b"[" + b",".join(row.body for row in outbox.get(ids[2:6])) + b"]"
    assert (stats.published, stats.messages) == (6, 3)
    clock.advance(FIRST_ACK_TIMEOUT_S + 0.01)
    sender.send()
    resent = [json.loads(body) for body in wire.sent[3:7]]
    assert [item["event_id"] for item in resent] == ids[2:6]  # one envelope per publish
    assert stats.resent == 4


def test_a_refused_batch_is_logged_once_with_its_size(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sender, outbox, wire, _, stats = rig(tmp_path, inflight_window=8)
    record(outbox, 5)
    sender.batch_max = 5
    sender.send()
    assert len(wire.sent) == 1
    sender.on_puback(1, DENIED)
    assert stats.denied == 1
    assert "broker refused 5 events (" in caplog.text


def test_re_sends_go_alone_so_paho_is_handed_no_more_publishes_than_its_windows(
    tmp_path: Path,
) -> None:
    sender, outbox, wire, clock, stats = rig(tmp_path, inflight_window=2, max_unacked=40)
    record(outbox, 40)
    sender.batch_max = 10
    sender._pacing.window = 40  # as after many acks
    sender.send()
    assert len(wire.sent) == 4  # 40 events in 4 batches
    for mid in range(1, 5):
        sender.on_puback(mid, OK)
    clock.advance(FIRST_ACK_TIMEOUT_S + 0.01)
    sender.send()
    # All 40 expired; paho may be handed 4 windows of 2 publishes: 8 events re-sent alone.
    assert len(wire.sent) == 4 + HANDED_WINDOWS * 2
    assert stats.resent == HANDED_WINDOWS * 2
