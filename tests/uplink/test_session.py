"""The uplink session against a real mosquitto with TLS and the fleet ACL."""

from __future__ import annotations

import threading
from pathlib import Path

from backoffice.receiver import Receiver
from branchsim.broker import LocalBroker
from tests.conftest import UplinkFactory
from uplink import topics
from uplink.session import Backoff, make_client


def test_a_device_publishing_as_another_device_is_denied_and_keeps_its_event(
    backoffice: Receiver, make_uplink: UplinkFactory
) -> None:
    # GIVEN a device configured as kiosk-9 but holding kiosk-8's certificate
    uplink = make_uplink("kiosk-9", identity="kiosk-8", ack_timeout_s=60)
    denied = threading.Event()
    uplink.record("device.probe", {"purpose": "test"})

    # WHEN it publishes into kiosk-9's topic THEN the broker answers reason code 135
    def seen_denial() -> bool:
        return uplink.stats.last_denied_reason is not None

    for _ in range(200):
        if seen_denial():
            break
        denied.wait(0.05)
    assert uplink.stats.last_denied_reason == 135
    assert uplink.outbox.pending() == 1
    assert backoffice.store.count("device.probe") == 0  # type: ignore[attr-defined]


def test_raw_cross_device_publish_gets_reason_code_135(broker: LocalBroker) -> None:
    client = make_client("kiosk-7", broker.client_config("kiosk-7"))
    client.on_socket_register_write = None
    codes: list[int] = []
    done = threading.Event()

    def on_publish(*args: object) -> None:
        codes.append(args[3].value)  # type: ignore[attr-defined]
        done.set()

    client.on_publish = on_publish
    client.connect("127.0.0.1", broker.tls_port)
    client.loop_start()
    try:
        client.publish(topics.events("kiosk-6"), b"{}", qos=1)
        assert done.wait(10)
        done.clear()
        client.publish(topics.events("kiosk-7"), b"{}", qos=1)
        assert done.wait(10)
    finally:
        client.disconnect()
        client.loop_stop()
    assert codes[0] == 135  # not authorised: someone else's prefix
    assert codes[1] in (0, 16)  # own prefix: accepted (16 = no subscribers matched)


def test_events_recorded_while_the_broker_is_down_arrive_after_it_returns(
    broker: LocalBroker, backoffice: Receiver, make_uplink: UplinkFactory
) -> None:
    uplink = make_uplink("dropbox-3", ack_timeout_s=1)
    assert uplink.wait_drained(10)
    broker.stop()
    try:
        ids = [
            uplink.record("device.probe", {"purpose": "test", "n": n}).event_id for n in range(50)
        ]
        assert uplink.outbox.pending() == 50
    finally:
        broker.start()
    assert backoffice.wait_ready(15)
    assert uplink.wait_drained(30)
    stored = set(backoffice.store.event_ids("device.probe"))  # type: ignore[attr-defined]
    assert set(ids) <= stored


def test_events_sent_while_no_receiver_listens_are_resent_until_acked(
    broker: LocalBroker, tmp_path: Path, make_uplink: UplinkFactory
) -> None:
    # More events than unacked slots: re-sending must not stall once every slot has expired.
    uplink = make_uplink("dropbox-4", ack_timeout_s=0.3, max_unacked=5)
    ids = [uplink.record("device.probe", {"purpose": "test", "n": n}).event_id for n in range(20)]
    # Nobody stores them yet: they must stay in the outbox.
    assert not uplink.wait_drained(1.0)
    assert uplink.outbox.pending() == 20

    from backoffice.config import BackofficeConfig
    from backoffice.store import SqliteEventStore

    store = SqliteEventStore(tmp_path / "late.db")
    late = Receiver(
        BackofficeConfig(broker=broker.client_config("backoffice"), database_path=store.path), store
    )
    late.start()
    try:
        assert uplink.wait_drained(20)
    finally:
        late.stop()
    assert set(ids) <= set(store.event_ids("device.probe"))
    assert uplink.stats.resent > 0


def test_backoff_grows_with_jitter_and_resets() -> None:
    import random

    backoff = Backoff(0.5, 30, random.Random(1))
    delays = [backoff.next_delay() for _ in range(12)]
    assert all(0.5 <= d <= 30 for d in delays)
    assert max(delays[8:]) > 4 * max(delays[:2])  # it grows
    assert len({round(d, 6) for d in delays}) == len(delays)  # jittered, not a fixed ladder
    backoff.reset()
    assert backoff.next_delay() == 0.5  # first delay after a success is the minimum
