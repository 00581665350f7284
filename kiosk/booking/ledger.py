"""The kiosk's check-in ledger: one row per booking checked in, durable before a ticket prints."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kiosk.errors import LedgerError
from uplink.durable import open_or_replace

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checkins (
    booking_id TEXT PRIMARY KEY,
    kiosk_id   TEXT NOT NULL,
    at         TEXT NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('local', 'remote'))
);
CREATE TABLE IF NOT EXISTS duplicates (
    booking_id   TEXT NOT NULL,
    local_kiosk  TEXT NOT NULL,
    local_at     TEXT NOT NULL,
    remote_kiosk TEXT NOT NULL,
    remote_at    TEXT NOT NULL,
    PRIMARY KEY (booking_id, remote_kiosk)
);
"""


@dataclass(frozen=True)
class CheckinRecord:
    """One check-in: which booking, at which kiosk, when (UTC), and whether it was done here."""

    booking_id: str
    kiosk_id: str
    at: datetime
    local: bool


@dataclass(frozen=True)
class Duplicate:
    """A booking checked in both here and at another kiosk (both were offline, say)."""

    booking_id: str
    local_kiosk: str
    local_at: datetime
    remote_kiosk: str
    remote_at: datetime


@dataclass(frozen=True)
class MergeResult:
    """What `merge_remote` changed."""

    added: int
    duplicates: list[Duplicate]


class CheckinLedger:
    """Check-ins in one SQLite file (WAL, synchronous=FULL: a claim survives a power cut).

    Thread-safe. `claim` is the only write a check-in needs; it is atomic, so two engines on one
    ledger can never both claim the same booking.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        # A corrupt file is moved aside (logged loudly) and a new one started; the app
        # reports `moved_aside` as a fault. Raises StorageError when it cannot be opened.
        self._db, self.moved_aside, self.problem = open_or_replace(
            self.path, _SCHEMA, what="check-in ledger"
        )

    def is_checked_in(self, booking_id: str) -> bool:
        """Whether the booking was checked in here or (as far as synced) at another kiosk."""
        return self.record(booking_id) is not None

    def record(self, booking_id: str) -> CheckinRecord | None:
        """The check-in of a booking, or None.

        Raises:
            LedgerError: the ledger cannot be read.
        """
        with self._guard("read a check-in"):
            row = self._db.execute(
                "SELECT booking_id, kiosk_id, at, source FROM checkins WHERE booking_id = ?",
                (booking_id,),
            ).fetchone()
        return None if row is None else _record(row)

    def claim(self, booking_id: str, kiosk_id: str, at: datetime) -> bool:
        """Record a check-in at this kiosk, durably, unless the booking already has one.

        Returns:
            True if this call claimed the booking; False if it was already checked in.

        Raises:
            LedgerError: the claim cannot be written.
        """
        with self._guard("record a check-in"):
            cursor = self._db.execute(
                "INSERT INTO checkins (booking_id, kiosk_id, at, source) VALUES (?, ?, ?, 'local')"
                " ON CONFLICT (booking_id) DO NOTHING",
                (booking_id, kiosk_id, _iso(at)),
            )
        return cursor.rowcount == 1

    def merge_remote(self, checkins: Iterable[CheckinRecord], own_kiosk_id: str) -> MergeResult:
        """Add check-ins the back office reports; note bookings also checked in here.

        Args:
            checkins: Check-ins from the back office's day list (any kiosk of the branch).
            own_kiosk_id: This kiosk's id. Its own check-ins echoed back are skipped, unless
                the ledger lacks them (a replaced SD card): then they are restored as local.

        Returns:
            How many were new, and the cross-kiosk duplicates found (each reported once).
        """
        added = 0
        found: list[Duplicate] = []
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            for remote in checkins:
                row = self._db.execute(
                    "SELECT booking_id, kiosk_id, at, source FROM checkins WHERE booking_id = ?",
                    (remote.booking_id,),
                ).fetchone()
                if row is None:
                    own = remote.kiosk_id == own_kiosk_id
                    self._db.execute(
                        "INSERT INTO checkins (booking_id, kiosk_id, at, source)"
                        " VALUES (?, ?, ?, ?)",
                        (remote.booking_id, remote.kiosk_id, _iso(remote.at),
                         "local" if own else "remote"),
                    )  # fmt: skip
                    added += 1
                    continue
                if remote.kiosk_id == own_kiosk_id:
                    continue
                mine = _record(row)
                if not mine.local or mine.kiosk_id == remote.kiosk_id:
                    continue
                cursor = self._db.execute(
                    "INSERT INTO duplicates VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (booking_id, remote_kiosk) DO NOTHING",
                    (mine.booking_id, mine.kiosk_id, _iso(mine.at), remote.kiosk_id,
                     _iso(remote.at)),
                )  # fmt: skip
                if cursor.rowcount == 1:
                    found.append(
                        Duplicate(mine.booking_id, mine.kiosk_id, mine.at, remote.kiosk_id,
                                  remote.at)
                    )  # fmt: skip
        if found:
            logger.warning("%d booking(s) were checked in at two kiosks", len(found))
        return MergeResult(added=added, duplicates=found)

    def duplicates(self) -> list[Duplicate]:
        """Every cross-kiosk duplicate found so far."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM duplicates ORDER BY local_at").fetchall()
        return [Duplicate(r[0], r[1], _parse(r[2]), r[3], _parse(r[4])) for r in rows]

    def count(self, *, local_only: bool = False) -> int:
        """How many check-ins the ledger holds."""
        with self._lock:
            row = self._db.execute(
                "SELECT count(*) FROM checkins WHERE ? OR source = 'local'", (not local_only,)
            ).fetchone()
        return int(row[0])

    def prune(self, before: datetime) -> int:
        """Forget check-ins older than `before` (tokens that old are rejected as wrong day)."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM checkins WHERE at < ?", (_iso(before),))
            self._db.execute("DELETE FROM duplicates WHERE local_at < ?", (_iso(before),))
        return cursor.rowcount

    @contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        """Hold the lock; a SQLite failure becomes a `LedgerError` naming the file."""
        with self._lock:
            try:
                yield
            except sqlite3.Error as exc:
                raise LedgerError(f"check-in ledger {self.path}: cannot {doing}: {exc}") from exc

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("check-in times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _record(row: tuple[str, str, str, str]) -> CheckinRecord:
    return CheckinRecord(row[0], row[1], _parse(row[2]), row[3] == "local")
