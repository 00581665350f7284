"""A receiver stopped while its store is slow returns only once the store's batch is done: the
caller closes the store next (a store closed under a batch failed it: "the receiver without its
store", seen once in the busy-hour fault test at load 30)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from backoffice import receiver as receiver_module
from backoffice.config import BackofficeConfig
from backoffice.receiver import Receiver
from branchsim.broker import LocalBroker
from tests.backoffice.test_receiver_inbox import message
from uplink.messages import Envelope


class SlowStore:
    """A store whose batch takes as long as the test says; it fails once closed."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.closed = False
        self.stored: list[str] = []

    def store_events(self, envelopes: Sequence[Envelope], received_at: str) -> int:
        self.entered.set()
        assert self.release.wait(30), "the test never let the batch finish"
        if self.closed:
            raise RuntimeError("store used after it was closed")
        self.stored += [e.event_id for e in envelopes]
        return len(envelopes)

    def store_rejected(self, *_args: Any) -> None:
        raise AssertionError("nothing here is a reject")

    def set_status(self, device_id: str, status: dict[str, Any]) -> None: ...

    def set_state(self, device_id: str, state: dict[str, Any]) -> None: ...

    def close(self) -> None:
        self.closed = True


def test_stop_waits_for_the_store_thread_however_long_its_batch_takes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(receiver_module, "STOP_REMIND_S", 0.05)
    store = SlowStore()
    config = BackofficeConfig.model_validate(
        {"broker": {"host": "127.0.0.1", "port": 1, "tls": False}, "database_path": tmp_path / "b"}
    )
    receiver = Receiver(config, store)
    monkeypatch.setattr(receiver._client, "publish", lambda *_a, **_k: None)
    # GIVEN the store thread in the middle of a slow batch
    receiver._on_message(receiver._client, None, message(1))
    receiver._worker.start()
    assert store.entered.wait(10)

    # WHEN the receiver is stopped, and then its store closed, as every caller does
    def stop_then_close() -> None:
        receiver.stop()
        store.close()

    stopping = threading.Thread(target=stop_then_close)
    with caplog.at_level(logging.WARNING, logger="backoffice.receiver"):
        stopping.start()
        # THEN stop says it waits for the store (past its reminder period), and has not returned
        waiting = threading.Event()
        for _ in range(200):
            if any("still busy" in r.getMessage() for r in caplog.records):
                break
            waiting.wait(0.05)
        assert any("still busy" in r.getMessage() for r in caplog.records)
        assert stopping.is_alive() and not store.closed
        # and once the batch is done, it is stored and only then the store closed
        store.release.set()
        stopping.join(10)
    assert not stopping.is_alive()
    assert store.stored == ["01J" + f"{1:023d}"]
    assert store.closed and not receiver._worker.is_alive()


def test_stop_of_a_receiver_never_started_returns_at_once(tmp_path: Path) -> None:
    config = BackofficeConfig.model_validate(
        {"broker": {"host": "127.0.0.1", "port": 1, "tls": False}, "database_path": tmp_path / "b"}
    )
    receiver = Receiver(config, SlowStore())
    receiver.stop()  # its store thread never ran: nothing to wait for (join would raise)
    assert not receiver._worker.is_alive()


def test_a_clean_stop_is_not_logged_as_a_lost_broker_but_a_real_loss_is(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broker = LocalBroker(tmp_path / "broker")
    broker.start()
    try:
        config = BackofficeConfig(
            broker=broker.client_config("backoffice"), database_path=tmp_path / "b.db"
        )
        # GIVEN a subscribed receiver WHEN its broker goes away THEN the loss is said
        lost = Receiver(config, SlowStore())
        with caplog.at_level(logging.INFO, logger="backoffice.receiver"):
            lost.start()
            assert lost.wait_ready(30)
            broker.kill()
            said = threading.Event()
            for _ in range(200):
                if any("lost the broker" in r.getMessage() for r in caplog.records):
                    break
                said.wait(0.05)
            assert any("lost the broker" in r.getMessage() for r in caplog.records)
            lost.stop()

            # GIVEN a receiver subscribed again WHEN it is stopped THEN nothing says "lost"
            broker.start()
            caplog.clear()
            receiver = Receiver(config, SlowStore())
            receiver.start()
            assert receiver.wait_ready(30)
            receiver.stop()
        messages = [r.getMessage() for r in caplog.records]
        assert not [m for m in messages if "lost the broker" in m], messages
        assert any("subscribing" in m for m in messages)  # the log was captured
    finally:
        broker.stop()
