"""A branch broker bridged to head office (`branchsim.BridgedBrokers`, the fleet's rendered
config): devices on the branch, the receiver on the central broker; the line is cut while the
devices record, and they are switched off before it returns: the branch broker's queue carries
everything across, once, and the acks come back through the bridge when the devices return."""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

from backoffice.config import BackofficeConfig
from backoffice.receiver import Receiver
from backoffice.store import SqliteEventStore
from branchsim.bridge import BridgedBrokers
from uplink import Outbox, Uplink, UplinkConfig, batches, topics
from uplink.session import make_client

EVENTS_BEFORE = 30
EVENTS_DURING_CUT = 60


def test_the_branch_broker_carries_a_cut_line_s_events_and_acks_come_back(
    tmp_path: Path,
) -> None:
    bridged = BridgedBrokers(tmp_path / "brokers", "jkt-01")
    devices = ["dropbox-1", "kiosk-1"]
    store = SqliteEventStore(tmp_path / "central.db")
    receiver = Receiver(
        BackofficeConfig(
            broker=bridged.central.client_config("backoffice"), database_path=store.path
        ),
        store,
    )

    def uplink_of(device_id: str) -> Uplink:
        return Uplink(
            UplinkConfig(
                device_id=device_id,
                broker=bridged.branch.client_config(device_id),
                outbox_path=tmp_path / f"{device_id}.db",
                ack_timeout_s=1.0,
                reconnect_min_s=0.05,
                reconnect_max_s=0.5,
                heartbeat_interval_s=0,
            )
        )

    uplinks = [uplink_of(d) for d in devices]
    recorded: list[str] = []

    def record(count: int) -> None:
        for n in range(count):
            for uplink in uplinks:
                recorded.append(uplink.record("device.probe", {"purpose": "test", "n": n}).event_id)

    before = EVENTS_BEFORE * len(devices)
    total = (EVENTS_BEFORE + EVENTS_DURING_CUT) * len(devices)
    bridged.start()
    receiver.start()
    try:
        assert receiver.wait_ready(10)
        for uplink in uplinks:
            uplink.start()
        record(EVENTS_BEFORE)
        for uplink in uplinks:
            assert uplink.wait_drained(30), "acks did not come back over the bridge"
        assert store.count() == before

        bridged.cut()
        record(EVENTS_DURING_CUT)
        time.sleep(1.5)  # the branch broker takes them; the bridge cannot pass them on
        assert all(u.pending() == EVENTS_DURING_CUT for u in uplinks), "acked during the cut"
        assert store.count() == before, "the link was not cut"
        # The devices go quiet (power saving, a reboot): what crosses now is what the branch
        # broker kept for the bridge, nothing re-sent.
        for uplink in uplinks:
            uplink.stop()
        bridged.restore()  # the bridge reconnects by itself (restart_timeout)
        deadline = time.monotonic() + 60
        while store.count() < total and time.monotonic() < deadline:
            time.sleep(0.05)  # waiting for the bridge, not timing it
        assert store.count() == total, "the branch broker did not keep the bridge's queue"

        # Back on, each device gets its acks (the ones queued for it, or on re-sending).
        uplinks = [uplink_of(d) for d in devices]
        for uplink in uplinks:
            uplink.start()
        for uplink in uplinks:
            assert uplink.wait_drained(30), f"{uplink.config.device_id}: not all acked"
    finally:
        for uplink in uplinks:
            uplink.stop()
        receiver.stop()
        bridged.stop()
    stored = store.event_ids("device.probe")
    store.close()
    assert len(recorded) == total
    assert sorted(stored) == sorted(recorded), "an event lost or stored twice"


def test_the_receiver_s_offer_of_batches_crosses_the_bridge(tmp_path: Path) -> None:
    """The bridge speaks MQTT 5, so an ack reaching a device on the branch broker still carries
    the receiver's `lapak-batch-max` (MQTT 3.1.1 would drop it: no batches behind bridges)."""
    bridged = BridgedBrokers(tmp_path / "brokers", "jkt-01")
    store = SqliteEventStore(tmp_path / "central.db")
    receiver = Receiver(
        BackofficeConfig(
            broker=bridged.central.client_config("backoffice"), database_path=store.path
        ),
        store,
    )
    offers: queue.Queue[int] = queue.Queue()
    subscribed = threading.Event()
    device = make_client("kiosk-1", bridged.branch.client_config("kiosk-1"))
    device.on_socket_register_write = None
    device.on_subscribe = lambda *_: subscribed.set()
    device.on_message = lambda _c, _u, message: offers.put(batches.offered_max(message.properties))
    bridged.start()
    receiver.start()
    try:
        assert receiver.wait_ready(10)
        device.connect("127.0.0.1", bridged.branch.tls_port)
        device.subscribe(topics.ack("kiosk-1"), qos=1)
        device.loop_start()
        assert subscribed.wait(10)
        body = Outbox(tmp_path / "o.db", "kiosk-1").record("device.probe", {"purpose": "test"})
        # Until the bridge is up, the event has no route: send it again until one is acked.
        deadline = time.monotonic() + 30
        while offers.empty() and time.monotonic() < deadline:
            device.publish(topics.events("kiosk-1"), body.to_json(), qos=1)
            time.sleep(0.5)
        assert offers.get(timeout=5) == batches.BATCH_MAX_EVENTS
    finally:
        device.disconnect()
        device.loop_stop()
        receiver.stop()
        bridged.stop()
        store.close()
