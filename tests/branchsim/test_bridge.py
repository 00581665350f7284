"""The branch broker bridged to the central one: events out, acks in, across a cut line."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backoffice.config import BackofficeConfig
from backoffice.receiver import Receiver
from backoffice.store import SqliteEventStore
from branchsim.bridge import BridgedBrokers
from uplink import Uplink, UplinkConfig

DEADLINE_S = 60.0  # the bridge's own retry schedule (restart_timeout 2 30) sets the pace


def eventually(condition: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + DEADLINE_S
    pause = threading.Event()
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        pause.wait(0.1)


@pytest.fixture
def bridged(tmp_path: Path) -> Iterator[BridgedBrokers]:
    pair = BridgedBrokers(tmp_path / "brokers", "jkt-01")
    pair.start()
    yield pair
    pair.stop()


def test_events_cross_a_cut_line_once_it_is_restored(
    bridged: BridgedBrokers, tmp_path: Path
) -> None:
    # GIVEN the back office at head office and a dropbox at the branch
    store = SqliteEventStore(tmp_path / "events.db")
    office = Receiver(
        BackofficeConfig(broker=bridged.central.client_config("backoffice"),
                         database_path=store.path),
        store,
    )  # fmt: skip
    office.start()
    box = Uplink(
        UplinkConfig(
            device_id="dropbox-1",
            broker=bridged.branch.client_config("dropbox-1"),
            outbox_path=tmp_path / "outbox.db",
            heartbeat_interval_s=0,
            reconnect_min_s=0.05,
            reconnect_max_s=0.5,
        )
    )
    box.start()
    try:
        assert office.wait_ready(10)
        box.record("device.probe", {"purpose": "test", "n": 0})
        eventually(lambda: store.count() == 1 and box.outbox.pending() == 0, "the first event")

        # WHEN the line to head office is cut while the box keeps recording
        bridged.cut()
        for n in range(5):
            box.record("device.probe", {"purpose": "test", "n": n + 1})
        time.sleep(1)  # the box works on; nothing can arrive meanwhile
        assert store.count() == 1
        assert box.outbox.pending() == 5

        # THEN once it is restored, everything arrives, once, and is acknowledged
        bridged.restore()
        eventually(lambda: box.outbox.pending() == 0, "the outbox drained after the outage")
        assert store.count() == 6
    finally:
        box.stop()
        office.stop()
        store.close()
