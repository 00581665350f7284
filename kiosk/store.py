"""The kiosk's durable ticket book (SQLite): per-day counters and one row per check-in.

A queue number is taken and its check-in row written in one transaction with
``synchronous=FULL``: after a power cut the counter never goes back, so no number repeats, and a
check-in that already has a number keeps it (never two tickets for one check-in). A booking's
check-in can be found again by booking id, so a kiosk that restarted between taking the number
and printing it delivers that number instead of refusing the participant.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.domain.checkin import BookedCheckin, Issued  # the port's values
from kiosk.errors import TicketBookError
from uplink.durable import open_or_replace

__all__ = ["BookedCheckin", "Issued", "TicketBook"]

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
    booking_id TEXT    UNIQUE,
    temperature TEXT   NOT NULL DEFAULT 'passed',
    reported   INTEGER NOT NULL DEFAULT 0,
    delivery   TEXT,
    UNIQUE (day, number)
);
CREATE INDEX IF NOT EXISTS checkins_by_day ON checkins (day, service, klass, issued_at);
"""


_BOOKED_COLUMNS = (
    "checkin_id, day, service, klass, number, issued_at, temperature, reported, delivery, "
    "booking_id"
)


def _booked(row: tuple[Any, ...]) -> BookedCheckin:
    """A `BookedCheckin` from a row of `_BOOKED_COLUMNS`."""
    return BookedCheckin(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        datetime.fromisoformat(row[5]),
        row[6],
        bool(row[7]),
        row[8],
        row[9],
    )


class TicketBook:
    """Durable queue-number counters and check-in records for one kiosk.

    Thread-safe (one connection behind a lock; the kiosk issues a few tickets a minute). Every
    method raises `TicketBookError` when the file cannot be read or written (never sqlite3's).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        # A corrupt file is moved aside (logged loudly) and a new one started; the app
        # reports `moved_aside` as a fault. Raises StorageError when it cannot be opened.
        self._db, self.moved_aside, self.problem = open_or_replace(
            self.path, _SCHEMA, what="ticket book"
        )

    def issue(
        self,
        checkin_id: str,
        *,
        day: str,
        service: str,
        klass: str,
        number_of: Callable[[int], str],
        at: datetime,
        booking_id: str | None = None,
        temperature: str = "passed",
    ) -> Issued:
        """Take the next number of (day, service, class) for `checkin_id`, or return its number.

        Raises:
            TicketBookError: `booking_id` already has a check-in under another id, or the file
                cannot be written.
        """
        with self._guard("take a number"):
            row = self._db.execute(
                "SELECT seq, number, delivery, reported, issued_at FROM checkins "
                "WHERE checkin_id = ?",
                (checkin_id,),
            ).fetchone()
            if row:
                return Issued(
                    checkin_id,
                    row[0],
                    row[1],
                    row[2],
                    new=False,
                    issued_at=datetime.fromisoformat(row[4]),
                    reported=bool(row[3]),
                )
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
                    "INSERT INTO checkins (checkin_id, day, service, klass, seq, number, "
                    "issued_at, booking_id, temperature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        checkin_id,
                        day,
                        service,
                        klass,
                        seq,
                        number,
                        at.isoformat(),
                        booking_id,
                        temperature,
                    ),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return Issued(checkin_id, seq, number, None, new=True, issued_at=at)

    def for_booking(self, booking_id: str) -> BookedCheckin | None:
        """The check-in this kiosk made for `booking_id`, if any."""
        with self._guard("find a booking's check-in"):
            row = self._db.execute(
                f"SELECT {_BOOKED_COLUMNS} FROM checkins WHERE booking_id = ?",  # noqa: S608
                (booking_id,),
            ).fetchone()
        return None if row is None else _booked(row)

    def printing(self) -> list[BookedCheckin]:
        """Check-ins whose ticket was being delivered when the kiosk stopped (claimed for
        printing, never marked delivered), oldest first."""
        with self._guard("find tickets left printing"):
            rows = self._db.execute(
                f"SELECT {_BOOKED_COLUMNS} FROM checkins "  # noqa: S608
                "WHERE delivery = 'printing' ORDER BY rowid"
            ).fetchall()
        return [_booked(row) for row in rows]

    def last_day(self) -> str | None:
        """The latest day a number was issued on (ISO date), if any."""
        with self._guard("read the last day"):
            (day,) = self._db.execute("SELECT MAX(day) FROM counters").fetchone()
        return str(day) if day is not None else None

    def begin_printing(self, checkin_id: str) -> bool:
        """Claim the one print of a check-in's ticket, durably, before sending it to the printer
        (its accepted event is in the outbox by then: this also marks it reported).

        Returns False if the check-in was already printed, shown, or being printed when the
        kiosk stopped: whether that ticket came out is unknown, so it is never printed again.
        """
        with self._guard("mark a ticket printing"):
            cursor = self._db.execute(
                "UPDATE checkins SET delivery = 'printing', reported = 1 WHERE checkin_id = ? "
                "AND delivery IS NULL",
                (checkin_id,),
            )
            return cursor.rowcount == 1

    def mark_delivered(self, checkin_id: str, delivery: str) -> bool:
        """Record how the number reached the participant (``printed`` or ``screen_only``).

        Returns False if the check-in already had a final delivery (nothing changes).
        """
        with self._guard("mark a ticket delivered"):
            cursor = self._db.execute(
                "UPDATE checkins SET delivery = ? WHERE checkin_id = ? "
                "AND (delivery IS NULL OR delivery = 'printing')",
                (delivery, checkin_id),
            )
            return cursor.rowcount == 1

    def delivery(self, checkin_id: str) -> str | None:
        with self._guard("read a delivery"):
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
        with self._guard("count check-ins"):
            (count,) = self._db.execute(
                f"SELECT COUNT(*) FROM checkins WHERE day = ? AND service = ? "  # noqa: S608
                f"AND klass IN ({marks}) AND issued_at >= ?",
                (day, service, *klasses, since.isoformat()),
            ).fetchone()
        return int(count)

    def numbers(self, day: str) -> list[str]:
        """Every number issued on `day` (tests, reconciliation)."""
        with self._guard("list numbers"):
            rows = self._db.execute(
                "SELECT number FROM checkins WHERE day = ? ORDER BY rowid", (day,)
            ).fetchall()
        return [row[0] for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        """Hold the lock; a SQLite failure becomes a `TicketBookError` naming the file."""
        with self._lock:
            try:
                yield
            except sqlite3.Error as exc:
                raise TicketBookError(f"ticket book {self.path}: cannot {doing}: {exc}") from exc
