"""The end-of-day audit every fault test ends with: nothing lost, stored twice or left pending."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from branchsim.audit import StoredEvent, duplicate_ticket_numbers, stored_events
from branchsim.branch import Branch, end_of_day

WIB = timezone(timedelta(hours=7))


def audited(branch: Branch, directory: Path) -> tuple[dict[str, Any], list[StoredEvent]]:
    """The day's summary and every stored event of the stopped `branch` (its store closed
    after); asserts nothing was lost, stored twice or left pending on a device, and no queue
    number was handed out twice."""
    try:
        summary = end_of_day(branch, directory)
        events = stored_events(branch.store.path)
    finally:
        branch.close_store()
    total = summary["total"]
    assert total["events_lost"] == 0, summary["devices"]
    assert total["duplicates_stored"] == 0, summary["devices"]
    assert duplicate_ticket_numbers(events, WIB) == 0
    assert total["events_pending"] == 0, summary["devices"]
    return summary, events


def at(event: StoredEvent) -> datetime:
    """When the event happened, by the device's clock."""
    return datetime.fromisoformat(event.occurred_at.replace("Z", "+00:00"))
