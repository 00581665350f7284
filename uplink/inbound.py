"""Messages the back office sends to devices, parsed once against the contract's schemas (the ones
the sender validates with) into typed values; a bad one is logged once, reported, and dropped.

Over MQTT: occupancy, collection counts, acks. Over the booking API: the day list, the
cancellations and the signed trust list (whose parse is its signature check, `uplink.booking`).

Handlers on the device receive only these values: no JSON, no missing key, no naive datetime
ever reaches the kiosk's or the dropbox's own code.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from uplink.booking import trustlist
from uplink.booking.trustlist import TrustList
from uplink.errors import MessageError
from uplink.messages import parse_json, validate

logger = logging.getLogger(__name__)

T = TypeVar("T")
# A bad message's fault report: (what, why), e.g. ("occupancy", "invalid occupancy at at: ...").
FaultReporter = Callable[[str, str], None]
_SEEN_LIMIT = 1000
# A branch's day has a few hundred bookings (~200 bytes each): 16 MB is far beyond any real list.
MAX_LIST_BYTES = 16 * 1024 * 1024


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


@dataclass(frozen=True)
class ListedCheckin:
    """A check-in the back office took from a kiosk of the branch."""

    kiosk_id: str
    at: datetime


@dataclass(frozen=True)
class ListedBooking:
    """One booking of a day list."""

    booking_id: str
    token: str
    cancelled_at: datetime | None
    checkins: tuple[ListedCheckin, ...]


@dataclass(frozen=True)
class DayList:
    """A branch's bookings for one day (`daylist.v1.json`); every time is timezone-aware."""

    branch: str
    day: date
    bookings: tuple[ListedBooking, ...]


@dataclass(frozen=True)
class Cancellations:
    """A branch's cancelled bookings from `first` on (`cancellations.v1.json`)."""

    branch: str
    first: date
    cancelled: Mapping[str, datetime]


def parse_day_list(raw: bytes) -> DayList:
    """Raises MessageError unless `raw` is a valid day list."""
    data = _parsed(raw, "daylist.v1.json")
    bookings = tuple(
        ListedBooking(
            entry["booking_id"],
            entry["token"],
            None if entry["cancelled_at"] is None else _time(entry["cancelled_at"]),
            tuple(ListedCheckin(c["kiosk_id"], _time(c["at"])) for c in entry["checkins"]),
        )
        for entry in data["bookings"]
    )
    return DayList(data["branch"], _day(data["date"]), bookings)


def parse_cancellations(raw: bytes) -> Cancellations:
    """Raises MessageError unless `raw` is a valid cancellations list."""
    data = _parsed(raw, "cancellations.v1.json")
    cancelled = {e["booking_id"]: _time(e["cancelled_at"]) for e in data["cancelled"]}
    return Cancellations(data["branch"], _day(data["from"]), cancelled)


def parse_trust_list(
    raw: bytes, anchors: Sequence[Ed25519PublicKey], *, min_sequence: int = 0
) -> TrustList:
    """The trust list, verified against the root keys (`uplink.booking.trustlist.parse`).

    Raises:
        TrustListError: malformed, not signed by a trusted root, or older than held.
    """
    return trustlist.parse(raw, anchors, min_sequence=min_sequence)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:  # the pattern passed: a day the calendar lacks (2026-02-30)
        raise MessageError(f"no such day: {text[:10]!r}") from None


def _time(text: str) -> datetime:
    # The schema's pattern and date-time check passed: 4-digit year, an offset, a real day.
    return datetime.fromisoformat(text)


def _parsed(raw: bytes, schema_name: str) -> dict[str, Any]:
    if len(raw) > MAX_LIST_BYTES:
        raise MessageError(f"{schema_name}: {len(raw)} bytes is over {MAX_LIST_BYTES}")
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
