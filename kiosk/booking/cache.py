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
from kiosk.errors import KioskError
from uplink import inbound
from uplink.booking.trustlist import TrustList, TrustListError
from uplink.errors import MessageError

logger = logging.getLogger(__name__)

KINDS = ("trust_list", "cancellations", "bookings")
"""The documents synced from the back office."""


class CacheError(KioskError, ValueError):
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
        branch: str | None = None,
    ) -> None:
        """Read what is on disk (a file that does not parse is logged and left unused).

        Args:
            trust_list_path: the signed trust list file.
            cache_dir: where the synced lists and their ETags are kept.
            anchors: the root keys the trust list must be signed by.
            branch: this kiosk's branch: a list of another branch's is refused (None: any).
        """
        self.branch = branch
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
        parsed = inbound.parse_trust_list(
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
        cancelled = self._cancellations(body)
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
        day = self._day_bookings(body)
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
                self._trust = inbound.parse_trust_list(document, self._anchors)
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
        self._cancelled = self._cancellations(body)

    def _load_day(self, body: bytes) -> None:
        self._day = self._day_bookings(body)

    def _cancellations(self, body: bytes) -> frozenset[str]:
        try:
            listed = inbound.parse_cancellations(body)
        except MessageError as exc:
            raise CacheError(f"not a cancellations list: {exc}") from None
        self._check_branch(listed.branch, "cancellations list")
        return frozenset(listed.cancelled)

    def _day_bookings(self, body: bytes) -> DayBookings:
        try:
            listed = inbound.parse_day_list(body)
        except MessageError as exc:
            raise CacheError(f"not a day list: {exc}") from None
        self._check_branch(listed.branch, "day list")
        return DayBookings(
            day=listed.day,
            tokens={b.booking_id: b.token for b in listed.bookings},
            cancelled=frozenset(b.booking_id for b in listed.bookings if b.cancelled_at),
            checkins=tuple(
                CheckinRecord(b.booking_id, c.kiosk_id, c.at, local=False)
                for b in listed.bookings
                for c in b.checkins
            ),
        )

    def _check_branch(self, branch: str, what: str) -> None:
        if self.branch is not None and branch != self.branch:
            raise CacheError(f"the {what} is branch {branch}'s, this kiosk is {self.branch}'s")

    def _read_json(self, name: str) -> dict[str, Any] | None:
        try:
            data = json.loads((self.cache_dir / name).read_bytes())
        except (FileNotFoundError, ValueError):
            return None
        return data if isinstance(data, dict) else None


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
