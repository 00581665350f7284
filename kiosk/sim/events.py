"""An event sink for simulations and tests: schema-checked, kept in memory, optionally on disk."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from uplink import Envelope, Outbox, catalog


class EventLog:
    """An `EventSink` that validates every event against its JSON Schema and keeps it.

    With `outbox`, each event is also committed there (exactly what the uplink stores before
    sending); with `jsonl`, each envelope (or bare event, without an outbox) is appended as one
    JSON line. `fail_with(exc)` makes every `record` raise `exc` until `fail_with(None)`, like an
    uplink whose disk is full.

    Args:
        outbox: a `uplink.Outbox` to record into, if any.
        jsonl: a file to append each event to, if any.
    """

    def __init__(self, *, outbox: Outbox | None = None, jsonl: Path | None = None) -> None:
        self.outbox = outbox
        self.jsonl = jsonl
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._failure: Exception | None = None
        self._lock = threading.Lock()

    def fail_with(self, failure: Exception | None) -> None:
        """Make `record` raise `failure` (e.g. `uplink.OutboxFull(...)`), or stop failing."""
        self._failure = failure

    def record(self, type_name: str, payload: Mapping[str, Any]) -> Envelope | None:
        """Validate and keep one event.

        Raises:
            MessageError: unknown type or a payload off its schema.
            Exception: whatever `fail_with` set.
        """
        if self._failure is not None:
            raise self._failure
        events = catalog()
        events.validate_payload(events.get(type_name), payload)
        with self._lock:
            envelope = self.outbox.record(type_name, payload) if self.outbox else None
            self.events.append((type_name, dict(payload)))
            if self.jsonl is not None:
                line = (
                    envelope.to_json().decode()
                    if envelope is not None
                    else json.dumps({"type": type_name, "payload": dict(payload)})
                )
                with self.jsonl.open("a", encoding="utf-8") as stream:
                    stream.write(line + "\n")
        return envelope

    def of(self, type_name: str) -> list[dict[str, Any]]:
        """The payloads of every kept event of `type_name`, oldest first."""
        with self._lock:
            return [payload for name, payload in self.events if name == type_name]

    def types(self) -> list[str]:
        """The type of every kept event, oldest first."""
        with self._lock:
            return [name for name, _ in self.events]
