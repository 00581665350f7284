"""What the kiosk knows offline: the trust list, cancellations and the day's bookings, on disk."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.booking.ledger import CheckinRecord
from uplink.booking import trustlist
from uplink.booking.trustlist import TrustList, TrustListError

logger = logging.getLogger(__name__)

KINDS = ("trust_list", "cancellations", "bookings")
"""The documents synced from the back office."""


class CacheError(ValueError):
    """A synced document is malformed; the cache keeps what it had."""


@dataclass(frozen=True)
class DayBookings:
    """The branch's bookings for one day, as the back office listed them."""

    day: date
    tokens: Mapping[str, str] = field(default_factory=dict)
    cancelled: frozenset[str] = frozenset()
    checkins: Sequence[CheckinRecord] = ()


class BookingCache:
    """The synced documents, read from disk at start and replaced atomically by sync.

    Readers (the verifier) get immutable snapshots; one writer (sync) at a time.
    """

    def __init__(
        self,
        trust_list_path: Path,
        cache_dir: Path,
        anchors: Sequence[Ed25519PublicKey],
    ) -> None:
        self.trust_list_path = Path(trust_list_path)
        self.cache_dir = Path(cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._anchors = list(anchors)
        self._lock = threading.Lock()
        self._meta: dict[str, dict[str, Any]] = self._read_json("meta.json") or {}
        self._trust: TrustList | None = None
        self._cancelled: frozenset[str] = frozenset()
        self._day: DayBookings | None = None
        self._load()

    # -- what the verifier and lookup read -------------------------------------------------

    def trust_list(self) -> TrustList | None:
        """The verified trust list held, or None if none was installed or synced."""
        return self._trust

    def is_cancelled(self, booking_id: str) -> bool:
        """Whether the back office listed this booking as cancelled."""
        day = self._day
        return booking_id in self._cancelled or (day is not None and booking_id in day.cancelled)

    def day_bookings(self) -> DayBookings | None:
        """The last synced day list, or None."""
        return self._day

    def token_for(self, booking_id: str) -> str | None:
        """The signed token of a booking in the synced day list (for offline typed codes)."""
        day = self._day
        return None if day is None else day.tokens.get(booking_id)

    def etag(self, kind: str, key: str = "") -> str | None:
        """The ETag of the cached document (`key` distinguishes e.g. the day), if any."""
        meta = self._meta.get(kind, {})
        return meta.get("etag") if meta.get("key", "") == key else None

    def ages_s(self, now: datetime) -> dict[str, float | None]:
        """Seconds since each document was last confirmed current (200 or 304); None: never."""
        out: dict[str, float | None] = {}
        for kind in KINDS:
            checked = self._meta.get(kind, {}).get("checked_at")
            out[kind] = (
                None if checked is None else (now - datetime.fromisoformat(checked)).total_seconds()
            )
        return out

    def cache_age_s(self, now: datetime) -> float | None:
        """Age of the stalest synced document in seconds; None if never synced."""
        ages = self.ages_s(now)
        if any(age is None for age in ages.values()):
            return None
        return max(age for age in ages.values() if age is not None)

    # -- what sync writes ------------------------------------------------------------------

    def store_trust_list(self, document: bytes, etag: str | None, now: datetime) -> TrustList:
        """Verify and install a new trust list.

        Raises:
            TrustListError: it does not verify or is older than the one held (nothing changes).
        """
        current = self._trust
        parsed = trustlist.parse(
            document, self._anchors, min_sequence=0 if current is None else current.sequence
        )
        with self._lock:
            _atomic_write(self.trust_list_path, document)
            self._trust = parsed
            self._mark("trust_list", etag, now)
        return parsed

    def store_cancellations(self, body: bytes, etag: str | None, now: datetime) -> int:
        """Install the cancellations list; returns how many bookings it cancels.

        Raises:
            CacheError: the body is not a cancellations document.
        """
        cancelled = _cancellations(body)
        with self._lock:
            _atomic_write(self.cache_dir / "cancellations.json", body)
            self._cancelled = cancelled
            self._mark("cancellations", etag, now)
        return len(cancelled)

    def store_bookings(self, body: bytes, etag: str | None, now: datetime) -> DayBookings:
        """Install a day list.

        Raises:
            CacheError: the body is not a day list.
        """
        day = _day_bookings(body)
        with self._lock:
            _atomic_write(self.cache_dir / "bookings.json", body)
            self._day = day
            self._mark("bookings", etag, now, key=day.day.isoformat())
        return day

    def touch(self, kind: str, now: datetime) -> None:
        """Record that the server confirmed the cached document is current (304)."""
        with self._lock:
            self._meta.setdefault(kind, {})["checked_at"] = now.astimezone(UTC).isoformat()
            self._write_meta()

    # -- internals -------------------------------------------------------------------------

    def _mark(self, kind: str, etag: str | None, now: datetime, key: str = "") -> None:
        self._meta[kind] = {"etag": etag, "key": key, "checked_at": now.astimezone(UTC).isoformat()}
        self._write_meta()

    def _write_meta(self) -> None:
        _atomic_write(self.cache_dir / "meta.json", json.dumps(self._meta, indent=1).encode())

    def _load(self) -> None:
        try:
            document = self.trust_list_path.read_bytes()
        except FileNotFoundError:
            logger.warning(
                "no trust list at %s yet; tokens cannot be verified", self.trust_list_path
            )
        else:
            try:
                self._trust = trustlist.parse(document, self._anchors)
            except TrustListError as exc:
                logger.error("trust list %s is not usable: %s", self.trust_list_path, exc)
        for name, loader in (("cancellations.json", self._load_cancellations),
                             ("bookings.json", self._load_day)):  # fmt: skip
            path = self.cache_dir / name
            if path.exists():
                try:
                    loader(path.read_bytes())
                except CacheError as exc:
                    logger.error("cached %s is not usable: %s", name, exc)

    def _load_cancellations(self, body: bytes) -> None:
        self._cancelled = _cancellations(body)

    def _load_day(self, body: bytes) -> None:
        self._day = _day_bookings(body)

    def _read_json(self, name: str) -> dict[str, Any] | None:
        try:
            data = json.loads((self.cache_dir / name).read_bytes())
        except (FileNotFoundError, ValueError):
            return None
        return data if isinstance(data, dict) else None


def _cancellations(body: bytes) -> frozenset[str]:
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise TypeError("the document is not a JSON object")
        return frozenset(str(entry["booking_id"]) for entry in data["cancelled"])
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise CacheError(f"not a cancellations document: {exc}") from None


def _day_bookings(body: bytes) -> DayBookings:
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise TypeError("the document is not a JSON object")
        tokens: dict[str, str] = {}
        cancelled: set[str] = set()
        checkins: list[CheckinRecord] = []
        for entry in data["bookings"]:
            booking_id = str(entry["booking_id"])
            tokens[booking_id] = str(entry["token"])
            if entry.get("cancelled_at"):
                cancelled.add(booking_id)
            checkins.extend(
                CheckinRecord(booking_id, str(c["kiosk_id"]), _aware(c["at"]), local=False)
                for c in entry.get("checkins") or ()
            )
        return DayBookings(
            day=date.fromisoformat(data["date"]),
            tokens=tokens,
            cancelled=frozenset(cancelled),
            checkins=tuple(checkins),
        )
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise CacheError(f"not a day-bookings document: {exc}") from None


def _aware(value: object) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"check-in time {value!r} has no UTC offset")
    return moment


def _atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file, fsync and rename: a power cut leaves old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
