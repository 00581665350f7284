"""Reconciling the box's counters with events the outbox holds (a kill between two commits)."""

from __future__ import annotations

from pathlib import Path

from dropbox_agent.domain.counters import reconcile_counters
from dropbox_agent.domain.model import BoxCounters, OpenCollection
from dropbox_agent.restore import pending_events
from uplink import ManualClock, Outbox


def _deposit(no: int, pending: int) -> tuple[str, dict[str, object]]:
    payload = {
        "box_id": "b",
        "deposit_no": no,
        "code": "ABCD-EFGH",
        "blocked_ms": 100,
        "pending_collection": pending,
    }
    return "dropbox.deposit", payload


def test_deposits_the_counters_missed_are_counted_and_known_ones_ignored() -> None:
    counters = BoxCounters(last_deposit_no=5, pending_count=2, pending_first_no=4, collection_no=1)
    pending = [_deposit(4, 1), _deposit(5, 2), _deposit(6, 3), _deposit(7, 4)]
    fixed = reconcile_counters(counters, pending)
    assert fixed == BoxCounters(7, 4, 4, 1, None)
    assert reconcile_counters(fixed, pending) == fixed  # idempotent


def test_a_collection_the_counters_missed_is_opened_and_its_count_applied() -> None:
    counters = BoxCounters(last_deposit_no=3, pending_count=3, pending_first_no=1, collection_no=0)
    started = {
        "box_id": "b",
        "collection_id": "b-c1",
        "officer_id": "ofc-1",
        "method": "pin",
        "deposits_logged": 3,
    }
    confirmed = {
        "box_id": "b",
        "collection_id": "b-c1",
        "deposits_logged": 3,
        "counted": 3,
        "source": "keypad",
    }
    fixed = reconcile_counters(
        counters,
        [
            ("dropbox.collection_started", started),
            _deposit(4, 1),
            ("dropbox.collection_confirmed", confirmed),
            ("dropbox.door", {"box_id": "b", "open": True, "authorized": True}),
        ],
    )
    assert fixed == BoxCounters(4, 1, 4, 1, OpenCollection("b-c1", "ofc-1", "pin", 3, counted=3))


def test_pending_events_reads_the_outbox_in_order(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db", "dropbox-t", clock=ManualClock())
    for n in range(1, 2501):
        outbox.record(*_deposit(n, n))
    events = pending_events(outbox)
    outbox.close()
    assert [p["deposit_no"] for _, p in events] == list(range(1, 2501))
    assert reconcile_counters(BoxCounters(), events).last_deposit_no == 2500
