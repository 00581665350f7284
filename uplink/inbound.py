"""Messages the back office sends to devices, parsed once against the contract's schemas (the ones
the sender validates with) into typed values; a bad one is logged once, reported, and dropped.

Handlers on the device receive only these values: no JSON, no missing key, no naive datetime
ever reaches the kiosk's or the dropbox's own code.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from uplink.errors import MessageError
from uplink.messages import parse_json, validate

logger = logging.getLogger(__name__)

T = TypeVar("T")
# A bad message's fault report: (what, why), e.g. ("occupancy", "invalid occupancy at at: ...").
FaultReporter = Callable[[str, str], None]
_SEEN_LIMIT = 1000


@dataclass(frozen=True)
class OccupancyReport:
    """The branch's occupancy (`occupancy.v1.json`); `at` is always timezone-aware."""

    inside: int
    capacity: int
    at: datetime | None = None
    waiting: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CollectionCount:
    """The officer's count for a collection (`command.collection-count.v1.json`)."""

    collection_id: str
    counted: int


def parse_occupancy(raw: bytes) -> OccupancyReport:
    """Raises MessageError unless `raw` is a valid occupancy message."""
    data = _parsed(raw, "occupancy.v1.json")
    at = datetime.fromisoformat(data["at"]) if "at" in data else None
    return OccupancyReport(data["inside"], data["capacity"], at, dict(data.get("waiting", {})))


def parse_collection_count(raw: bytes) -> CollectionCount:
    """Raises MessageError unless `raw` is a valid collection-count command."""
    data = _parsed(raw, "command.collection-count.v1.json")
    return CollectionCount(data["collection_id"], data["counted"])


def parse_ack(raw: bytes) -> tuple[str, ...]:
    """The acked event ids; raises MessageError unless `raw` is a valid ack."""
    return tuple(_parsed(raw, "ack.v1.json")["acked"])


def _parsed(raw: bytes, schema_name: str) -> dict[str, Any]:
    data = parse_json(raw)
    validate(schema_name, data)
    if not isinstance(data, dict):  # every inbound schema says object; this is for the types
        raise MessageError(f"{schema_name}: not an object")
    return data


class InboundGuard:
    """Turns `(topic, payload)` deliveries into typed values for a handler, dropping bad ones.

    A bad message is logged and reported (`report_fault`) once per distinct content: a retained
    message comes back on every reconnect, and must not flood the log or the fault history.
    """

    def __init__(self, report_fault: FaultReporter | None = None) -> None:
        self._report_fault = report_fault
        self._seen: set[bytes] = set()

    def handler(
        self, what: str, parse: Callable[[bytes], T], on_value: Callable[[T], None]
    ) -> Callable[[str, bytes], None]:
        """A handler for `Uplink.subscribe`: empty payloads (cleared retained) are skipped."""

        def handle(topic: str, payload: bytes) -> None:
            if not payload:
                return
            try:
                value = parse(payload)
            except MessageError as exc:
                self._bad(what, topic, payload, str(exc))
                return
            on_value(value)

        return handle

    def _bad(self, what: str, topic: str, payload: bytes, reason: str) -> None:
        digest = hashlib.sha256(topic.encode() + b"\0" + payload).digest()
        if digest in self._seen:
            return
        if len(self._seen) >= _SEEN_LIMIT:
            self._seen.clear()
        self._seen.add(digest)
        logger.warning("ignoring a bad %s message on %s: %s", what, topic, reason)
        if self._report_fault is not None:
            self._report_fault(what, reason)
