"""A device sends batched event messages only to a back office that says it reads them
(uplink.batches), through a real broker."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from backoffice.receiver import Receiver
from branchsim.broker import LocalBroker
from tests.conftest import UplinkFactory, queries
from uplink import Uplink, UplinkConfig, topics
from uplink.session import make_client


def test_a_backlog_drains_in_batches_to_a_receiver_that_offers_them(
    broker: LocalBroker, backoffice: Receiver, make_uplink: UplinkFactory
) -> None:
    broker.stop()  # an outage: the device fills its outbox
    uplink = make_uplink("kiosk-21", inflight_window=4)
    ids = [uplink.record("device.probe", {"purpose": "test", "n": n}).event_id for n in range(600)]
    broker.start()
    assert backoffice.wait_ready(20)
    assert uplink.wait_drained(60)
    assert sorted(queries(backoffice).event_ids()) == sorted(ids)
    assert backoffice.duplicates <= uplink.stats.resent  # a duplicate is always a re-send
    # Far fewer publishes than events: after the first acks, up to 100 events per message.
    assert uplink.stats.published >= len(ids)
    assert uplink.stats.messages < len(ids) / 4


class OldReceiver:
    """A back office from before batches: acks each event it gets, with no properties, and
    records every message body it got."""

    def __init__(self, broker: LocalBroker) -> None:
        self.bodies: list[bytes] = []
        self.client = make_client("backoffice-old", broker.client_config("backoffice-old"))
        self.client.on_socket_register_write = None
        ready = threading.Event()
        self.client.on_subscribe = lambda *_: ready.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker.tls_port)
        self.client.subscribe(topics.all_events("old"), qos=1)
        self.client.loop_start()
        assert ready.wait(10)

    def _on_message(self, _c: Any, _u: Any, message: Any) -> None:
        self.bodies.append(bytes(message.payload))
        envelope = json.loads(message.payload)  # an old receiver reads one envelope
        ack = {"schema_version": 1, "acked": [envelope["event_id"]]}
        self.client.publish(topics.ack(envelope["device_id"]), json.dumps(ack), qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_a_receiver_that_never_offers_batches_only_ever_gets_single_envelopes(
    tmp_path: Path,
) -> None:
    # A broker of its own: the shared one queues for the back office's persistent session.
    broker = LocalBroker(tmp_path / "broker")
    broker.start()
    old = OldReceiver(broker)
    uplink = Uplink(
        UplinkConfig(
            device_id="kiosk-22",
            broker=broker.client_config("kiosk-22"),
            outbox_path=tmp_path / "outbox.db",
            heartbeat_interval_s=0,
            inflight_window=4,
        )
    )
    try:
        uplink.start()
        for n in range(300):
            uplink.record("device.probe", {"purpose": "test", "n": n})
        assert uplink.wait_drained(60)
    finally:
        uplink.stop()
        old.close()
        broker.stop()
    assert uplink.stats.messages == uplink.stats.published >= 300
    assert len(old.bodies) >= 300 and all(body.startswith(b"{") for body in old.bodies)
