"""Where a device's events go: the one `EventSink` protocol, and `EventLog`, its in-memory twin.

`uplink.Uplink` is the sink on a device (an event is durable in the outbox before `record`
returns). `EventLog` ships with the product for simulations and tests: it checks every event
against its JSON Schema as the outbox does, keeps it, and can be told to fail like a full disk.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from uplink.clock import utc_iso
from uplink.messages import Envelope, catalog
from uplink.outbox import Outbox


class EventSink(Protocol):
    """What a device's logic needs from the uplink (`uplink.Uplink` and `EventLog` fit)."""

    def record(
        self,
        type_name: str,
        payload: Mapping[str, Any],
        *,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
    ) -> Envelope:
        """Durably record one event (at `occurred_at`, now by default).

        `event_id` fixes the event's id (a new one by default): an event recorded again with
        the id it was first recorded with is one event (the outbox stores it once while it is
        pending, the back office once whenever it comes).

        Raises:
            MessageError: unknown type or a payload off its schema.
            StorageError: it could not be stored (`OutboxFull`, a full disk).
        """
        ...

    def publish_state(self, state: Mapping[str, Any]) -> None:
        """Set the device's retained state message."""
        ...


class EventLog:
    """An `EventSink` that validates every event against its JSON Schema and keeps it.

    With `outbox`, each event is also committed there (exactly what the uplink stores before
    sending); with `jsonl`, each envelope is appended as one JSON line. `fail_with(exc)` makes
    every `record` raise `exc` until `fail_with(None)`, like an uplink whose disk is full.

    Args:
        outbox: a `uplink.Outbox` to record into, if any.
        jsonl: a file to append each event to, if any.
        device_id: the device named in envelopes made without an outbox.
    """

    def __init__(
        self, *, outbox: Outbox | None = None, jsonl: Path | None = None, device_id: str = "sim"
    ) -> None:
        self.outbox = outbox
        self.jsonl = jsonl
        self.device_id = device_id
        self.records: list[tuple[str, dict[str, Any], datetime | None]] = []
        """(type, payload, occurred_at) of every kept event, oldest first."""
        self.states: list[dict[str, Any]] = []
        """Every retained state message published, oldest first."""
        self._failure: Exception | None = None
        self._lock = threading.Lock()
        self._ids: dict[str, Envelope] = {}  # every kept event by id: one event per id

    def fail_with(self, failure: Exception | None) -> None:
        """Make `record` raise `failure` (e.g. `uplink.OutboxFull(...)`), or stop failing."""
        self._failure = failure

    def record(
        self,
        type_name: str,
        payload: Mapping[str, Any],
        *,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
    ) -> Envelope:
        """Validate and keep one event (once per `event_id` when one is given).

        Raises:
            MessageError: unknown type or a payload off its schema.
            Exception: whatever `fail_with` set.
        """
        if self._failure is not None:
            raise self._failure
        events = catalog()
        event_type = events.get(type_name)
        events.validate_payload(event_type, payload)
        with self._lock:
            if event_id is not None and event_id in self._ids:
                return self._ids[event_id]
            if self.outbox is not None:
                envelope = self.outbox.record(
                    type_name, payload, occurred_at=occurred_at, event_id=event_id
                )
            else:
                envelope = Envelope(
                    event_id=event_id or f"e{len(self.records) + 1:05d}",
                    device_id=self.device_id,
                    seq=len(self.records) + 1,
                    type=type_name,
                    type_version=event_type.version,
                    occurred_at=utc_iso(occurred_at) if occurred_at else "",
                    clock_synced=True,
                    payload=dict(payload),
                )
            self.records.append((type_name, dict(payload), occurred_at))
            self._ids[envelope.event_id] = envelope
            if self.jsonl is not None:
                line = (
                    envelope.to_json().decode()
                    if self.outbox is not None
                    else json.dumps({"type": type_name, "payload": dict(payload)})
                )
                with self.jsonl.open("a", encoding="utf-8") as stream:
                    stream.write(line + "\n")
        return envelope

    def publish_state(self, state: Mapping[str, Any]) -> None:
        """Keep the state message (`states`)."""
        with self._lock:
            self.states.append(dict(state))

    @property
    def events(self) -> list[tuple[str, dict[str, Any]]]:
        """(type, payload) of every kept event, oldest first."""
        with self._lock:
            return [(name, payload) for name, payload, _ in self.records]

    def of(self, type_name: str) -> list[dict[str, Any]]:
        """The payloads of every kept event of `type_name`, oldest first."""
        with self._lock:
            return [payload for name, payload, _ in self.records if name == type_name]

    def types(self) -> list[str]:
        """The type of every kept event, oldest first."""
        with self._lock:
            return [name for name, _, _ in self.records]
