"""At start, the counters brought up to date with the events the outbox and the held journal hold
(a process stopped between committing an event and saving the counters left them behind)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from dropbox_agent.domain.counters import reconcile_counters
from dropbox_agent.domain.model import BoxCounters
from dropbox_agent.ports import HeldEvent
from uplink.outbox import Outbox

logger = logging.getLogger(__name__)


def caught_up(counters: BoxCounters, outbox: Outbox, held: Iterable[HeldEvent]) -> BoxCounters:
    """`counters` with every event still in the outbox or held applied (`reconcile_counters`).

    Events held on a full disk were counted too: the next deposit must not reuse the number of
    one that is held (the counters could not be saved either).
    """
    counted = [*pending_events(outbox), *((event.type, event.payload) for event in held)]
    return reconcile_counters(counters, counted)


def pending_events(outbox: Outbox) -> list[tuple[str, Mapping[str, Any]]]:
    """The outbox's unacknowledged events as (type, payload), oldest first (unreadable rows
    are skipped with a warning: they cannot be reconciled, and are still sent as they are)."""
    out: list[tuple[str, Mapping[str, Any]]] = []
    seq = 0
    while rows := outbox.after(seq, 1000):
        for row in rows:
            try:
                data = json.loads(row.body)
                type_name, payload = data["type"], data["payload"]
                if not isinstance(type_name, str) or not isinstance(payload, dict):
                    raise TypeError("type or payload of the wrong kind")
            except (ValueError, KeyError, TypeError) as exc:
                logger.warning("outbox row %d is unreadable (%s); not reconciled", row.seq, exc)
                continue
            out.append((type_name, payload))
        seq = rows[-1].seq
    return out
