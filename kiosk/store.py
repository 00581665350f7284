"""The kiosk's durable ticket book (SQLite): per-day counters and one row per check-in.

A queue number is taken and its check-in row written in one transaction with
``synchronous=FULL``: after a power cut the counter never goes back, so no number repeats, and a
check-in that already has a number keeps it (never two tickets for one check-in).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    day     TEXT    NOT NULL,
    service TEXT    NOT NULL,
    klass   TEXT    NOT NULL,
    last    INTEGER NOT NULL,
    PRIMARY KEY (day, service, klass)
);
CREATE TABLE IF NOT EXISTS checkins (
    checkin_id TEXT    PRIMARY KEY,
    day        TEXT    NOT NULL,
    service    TEXT    NOT NULL,
    klass      TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    number     TEXT    NOT NULL,
    issued_at  TEXT    NOT NULL,
    delivery   TEXT,
    UNIQUE (day, number)
);
CREATE INDEX IF NOT EXISTS checkins_by_day ON checkins (day, service, klass, issued_at);
"""


@dataclass(frozen=True)
class Issued:
    """A number taken for a check-in."""

    checkin_id: str
    seq: int
    number: str
    delivery: str | None  # None until printed or shown: "printed" or "screen_only"
    new: bool  # False when the check-in already had this number


class TicketBook:
    """Durable queue-number counters and check-in records for one kiosk.

    Thread-safe (one connection behind a lock; the kiosk issues a few tickets a minute).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def issue(
        self,
        checkin_id: str,
        *,
        day: str,
        service: str,
        klass: str,
        number_of: Callable[[int], str],
        at: datetime,
    ) -> Issued:
        """Take the next number of (day, service, class) for `checkin_id`, or return its number."""
        with self._lock:
            row = self._db.execute(
                "SELECT seq, number, delivery FROM checkins WHERE checkin_id = ?", (checkin_id,)
            ).fetchone()
            if row:
                return Issued(checkin_id, row[0], row[1], row[2], new=False)
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO counters (day, service, klass, last) VALUES (?, ?, ?, 1) "
                    "ON CONFLICT (day, service, klass) DO UPDATE SET last = last + 1",
                    (day, service, klass),
                )
                (seq,) = self._db.execute(
                    "SELECT last FROM counters WHERE day = ? AND service = ? AND klass = ?",
                    (day, service, klass),
                ).fetchone()
                number = number_of(seq)
                self._db.execute(
                    "INSERT INTO checkins (checkin_id, day, service, klass, seq, number, issued_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (checkin_id, day, service, klass, seq, number, at.isoformat()),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return Issued(checkin_id, seq, number, None, new=True)

    def mark_delivered(self, checkin_id: str, delivery: str) -> bool:
        """Record how the number reached the participant; False if it already had (no reprint)."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE checkins SET delivery = ? WHERE checkin_id = ? AND delivery IS NULL",
                (delivery, checkin_id),
            )
            return cursor.rowcount == 1

    def delivery(self, checkin_id: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT delivery FROM checkins WHERE checkin_id = ?", (checkin_id,)
            ).fetchone()
        return row[0] if row else None

    def count_since(
        self, *, day: str, service: str, classes: Iterable[str], since: datetime
    ) -> int:
        """Check-ins of `service` in `classes` issued at or after `since` on `day`."""
        klasses = list(classes)
        marks = ",".join("?" * len(klasses))
        with self._lock:
            (count,) = self._db.execute(
                f"SELECT COUNT(*) FROM checkins WHERE day = ? AND service = ? "  # noqa: S608
                f"AND klass IN ({marks}) AND issued_at >= ?",
                (day, service, *klasses, since.isoformat()),
            ).fetchone()
        return int(count)

    def numbers(self, day: str) -> list[str]:
        """Every number issued on `day` (tests, reconciliation)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT number FROM checkins WHERE day = ? ORDER BY rowid", (day,)
            ).fetchall()
        return [row[0] for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
