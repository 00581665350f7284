"""Bring the persisted box counters up to date with events the outbox holds but they missed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, cast

from dropbox_agent.domain.model import AuthMethod, BoxCounters, OpenCollection

_COLLECTION_NO = re.compile(r"-c(\d+)$")


def reconcile_counters(
    counters: BoxCounters, pending: Iterable[tuple[str, Mapping[str, Any]]]
) -> BoxCounters:
    """Apply recorded-but-uncounted events to `counters`.

    The agent records an event in the outbox, then saves the counters; a process killed between
    the two leaves the outbox one step ahead. `pending` is the outbox's unacknowledged events as
    (type, payload), oldest first; events the counters already reflect change nothing, so the
    function is idempotent.
    """
    for type_name, payload in pending:
        try:
            counters = _apply(counters, type_name, payload)
        except (KeyError, TypeError, ValueError):
            continue  # a payload off its schema (a damaged row) counts nothing
    return counters


def _apply(counters: BoxCounters, type_name: str, payload: Mapping[str, Any]) -> BoxCounters:
    if type_name == "dropbox.deposit":
        number = int(payload["deposit_no"])
        if number <= counters.last_deposit_no:
            return counters
        count = int(payload["pending_collection"])
        return replace(
            counters,
            last_deposit_no=number,
            pending_count=count,
            pending_first_no=number - count + 1 if count > 0 else None,
        )
    if type_name == "dropbox.collection_started":
        match = _COLLECTION_NO.search(str(payload["collection_id"]))
        if match is None or int(match.group(1)) <= counters.collection_no:
            return counters
        return replace(
            counters,
            collection_no=int(match.group(1)),
            pending_count=0,
            pending_first_no=None,
            open_collection=OpenCollection(
                str(payload["collection_id"]),
                str(payload["officer_id"]),
                cast(AuthMethod, payload["method"]),
                int(payload["deposits_logged"]),
            ),
        )
    if type_name in ("dropbox.collection_confirmed", "dropbox.collection_mismatch"):
        oc = counters.open_collection
        if oc is not None and oc.collection_id == payload["collection_id"]:
            return replace(counters, open_collection=replace(oc, counted=int(payload["counted"])))
    return counters
