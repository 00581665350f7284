"""When the uplink's network thread wakes its sender thread (no broker: paho's callbacks called
directly)."""

from __future__ import annotations

from pathlib import Path

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from uplink import Uplink, UplinkConfig
from uplink.sender import HANDED_WINDOWS

OK = ReasonCode(PacketTypes.PUBACK, "Success")
DENIED = ReasonCode(PacketTypes.PUBACK, "Not authorized")


def uplink(tmp_path: Path, inflight_window: int) -> Uplink:
    return Uplink(
        UplinkConfig.model_validate(
            {
                "device_id": "kiosk-1",
                "broker": {"host": "127.0.0.1", "port": 1883, "tls": False},
                "outbox_path": tmp_path / "o.db",
                "inflight_window": inflight_window,
            }
        )
    )


def test_pubacks_wake_the_sender_once_half_of_what_paho_holds_is_free(tmp_path: Path) -> None:
    # GIVEN an uplink whose sender keeps 32 publishes on the wire and hands paho more
    device = uplink(tmp_path, inflight_window=32)
    batch = HANDED_WINDOWS * 32 // 2
    assert 1 < batch < 1000
    try:
        # WHEN fewer PUBACKs than a share of the window arrive THEN the sender sleeps on
        for mid in range(1, batch):
            device._on_publish(device._client, None, mid, OK, None)
        assert not device._wake.is_set()
        # WHEN half is reached THEN it is woken, with every PUBACK queued for it
        device._on_publish(device._client, None, batch, OK, None)
        assert device._wake.is_set()
        assert [mid for mid, _ in device._pubacks] == list(range(1, batch + 1))
    finally:
        device.outbox.close()


def test_a_refused_publish_wakes_the_sender_at_once(tmp_path: Path) -> None:
    device = uplink(tmp_path, inflight_window=32)
    try:
        device._on_publish(device._client, None, 1, DENIED, None)
        assert device._wake.is_set()
    finally:
        device.outbox.close()


def test_a_window_of_one_wakes_the_sender_before_paho_runs_dry(tmp_path: Path) -> None:
    device = uplink(tmp_path, inflight_window=1)
    try:
        for mid in range(1, HANDED_WINDOWS // 2):
            device._on_publish(device._client, None, mid, OK, None)
        assert not device._wake.is_set()
        device._on_publish(device._client, None, HANDED_WINDOWS // 2, OK, None)
        assert device._wake.is_set()
    finally:
        device.outbox.close()


def test_paho_keeps_as_many_publishes_on_the_wire_as_the_window(tmp_path: Path) -> None:
    # paho's own default (20) would hold the wire below the configured window.
    device = uplink(tmp_path, inflight_window=32)
    try:
        assert device._client.max_inflight_messages == 32
    finally:
        device.outbox.close()


def test_an_ack_wakes_the_sender_only_while_the_unacked_window_holds_it(tmp_path: Path) -> None:
    device = uplink(tmp_path, inflight_window=32)
    try:
        first, second = (
            device.outbox.record("device.probe", {"purpose": "test"}) for _ in range(2)
        )
        # WHEN paho's share is what holds the sender back THEN an ack is taken in later
        device._acks_wake_sender = False
        device._handle_ack(b'{"schema_version":1,"acked":["%s"]}' % first.event_id.encode())
        assert not device._wake.is_set()
        assert list(device._acked) == [first.event_id]  # queued, and gone from the outbox
        assert device.outbox.get([first.event_id]) == []
        # WHEN the unacked window holds it THEN an ack wakes it at once
        device._acks_wake_sender = True
        device._handle_ack(b'{"schema_version":1,"acked":["%s"]}' % second.event_id.encode())
        assert device._wake.is_set()
        assert list(device._acked) == [first.event_id, second.event_id]
    finally:
        device.outbox.close()
