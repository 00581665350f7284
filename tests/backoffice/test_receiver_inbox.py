"""The receiver's hand-over from paho's thread to its store thread (no broker: paho's callback
called directly, a recording store)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from paho.mqtt.client import MQTTMessage
from paho.mqtt.properties import Properties

from backoffice.config import BackofficeConfig
from backoffice.receiver import Receiver
from uplink import batches, topics
from uplink.messages import Envelope


class RecordingStore:
    """Remembers each committed batch."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.done = threading.Event()
        self.expected = 0

    def store_events(self, envelopes: Sequence[Envelope], received_at: str) -> int:
        self.batches.append([e.event_id for e in envelopes])
        if sum(map(len, self.batches)) >= self.expected:
            self.done.set()
        return len(envelopes)

    def store_rejected(self, *_args: Any) -> None:
        raise AssertionError("nothing here is a reject")

    def set_status(self, device_id: str, status: dict[str, Any]) -> None: ...

    def set_state(self, device_id: str, state: dict[str, Any]) -> None: ...


def receiver_over(store: RecordingStore, tmp_path: Path, *, batch_max: int) -> Receiver:
    """A receiver (not started, never connected) storing into `store`."""
    config = BackofficeConfig.model_validate(
        {
            "broker": {"host": "127.0.0.1", "port": 1883, "tls": False},
            "database_path": tmp_path / "bo.db",
            "receiver": {"batch_max": batch_max},
        }
    )
    return Receiver(config, store)


def message(seq: int) -> MQTTMessage:
    event_id = "01J" + f"{seq:023d}"
    body = Envelope(
        event_id,
        "kiosk-1",
        seq,
        "device.probe",
        1,
        "2026-11-30T16:30:05.000Z",
        True,
        {"purpose": "test"},
    ).to_json()
    msg = MQTTMessage(topic=topics.events("kiosk-1").encode())
    msg.payload = body
    return msg


def test_every_message_is_stored_in_batches_then_acked_and_stop_ends_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RecordingStore()
    store.expected = 2500
    receiver = receiver_over(store, tmp_path, batch_max=1000)
    acked: list[str] = []
    offers: set[int] = set()

    def publish(_topic: str, body: str, qos: int, properties: Properties) -> None:
        acked.extend(json.loads(body)["acked"])
        offers.add(batches.offered_max(properties))

    monkeypatch.setattr(receiver._client, "publish", publish)
    # GIVEN messages that arrived before the store thread looked
    for seq in range(1, 2001):
        receiver._on_message(receiver._client, None, message(seq))
    receiver._worker.start()
    # WHEN more arrive while it stores
    for seq in range(2001, 2501):
        receiver._on_message(receiver._client, None, message(seq))
    # THEN each is stored once, in order, no batch above batch_max, and acked after its commit
    assert store.done.wait(30)
    stored = [event_id for batch in store.batches for event_id in batch]
    assert stored == ["01J" + f"{seq:023d}" for seq in range(1, 2501)]
    assert max(map(len, store.batches)) <= 1000
    assert store.batches[0] == stored[:1000]  # what waited is taken in whole batches
    deadline = time.monotonic() + 10
    while len(acked) < 2500 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert acked == stored
    assert offers == {batches.BATCH_MAX_EVENTS}  # every ack says batches are read
    receiver.stop()
    assert not receiver._worker.is_alive()


def test_batched_messages_are_committed_at_most_batch_max_events_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """batch_max bounds a commit in events, though a batched message carries up to 100."""
    store = RecordingStore()
    store.expected = 300
    receiver = receiver_over(store, tmp_path, batch_max=150)
    acked: list[str] = []
    monkeypatch.setattr(
        receiver._client, "publish", lambda _t, body, **_: acked.extend(json.loads(body)["acked"])
    )
    for first in (1, 101, 201):
        joined = batches.join([message(seq).payload for seq in range(first, first + 100)])
        msg = MQTTMessage(topic=topics.events("kiosk-1").encode())
        msg.payload = joined
        receiver._on_message(receiver._client, None, msg)
    receiver._worker.start()
    assert store.done.wait(30)
    receiver.stop()
    assert [len(batch) for batch in store.batches] == [150, 150]
    assert acked == [event_id for batch in store.batches for event_id in batch]
