"""The back office's booking database: bookings, signing keys, check-ins, the trust list."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from uplink.booking.model import Booking, parse_channel, parse_service
from uplink.durable import open_store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bookings (
    booking_id   TEXT PRIMARY KEY,
    branch       TEXT NOT NULL,
    day          TEXT NOT NULL,
    service      TEXT NOT NULL,
    channel      TEXT NOT NULL,
    party_size   INTEGER NOT NULL,
    slot_start   TEXT NOT NULL,
    slot_end     TEXT NOT NULL,
    masked_name  TEXT NOT NULL,
    token        TEXT NOT NULL,
    kid          TEXT NOT NULL,
    issued_at    TEXT NOT NULL,
    cancelled_at TEXT
);
CREATE INDEX IF NOT EXISTS bookings_by_day ON bookings (branch, day);
CREATE TABLE IF NOT EXISTS checkins (
    booking_id TEXT NOT NULL,
    kiosk_id   TEXT NOT NULL,
    at         TEXT NOT NULL,
    PRIMARY KEY (booking_id, kiosk_id)
);
CREATE TABLE IF NOT EXISTS keys (
    kid          TEXT PRIMARY KEY,
    public_key   TEXT NOT NULL,
    valid_from   TEXT NOT NULL,
    valid_until  TEXT NOT NULL,
    withdrawn_at TEXT,
    signs_from   TEXT
);
CREATE TABLE IF NOT EXISTS meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class StoredBooking:
    """A booking as the back office holds it."""

    booking: Booking
    token: str
    issued_at: datetime
    cancelled_at: datetime | None


@dataclass(frozen=True)
class KeyRow:
    """A signing key's public half and its period.

    `valid_from`/`valid_until` are the period the trust list gives the kiosks (a next key is
    listed from its publication); `signs_from` is the back office's own: when the issuer starts
    signing with it (None: published as the next key, not signing yet).
    """

    kid: str
    public_key: str
    valid_from: datetime
    valid_until: datetime
    withdrawn_at: datetime | None
    signs_from: datetime | None = None


class BookingStore:
    """SQLite (WAL, synchronous=FULL), safe to share between the API's threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = open_store(self.path, _SCHEMA, what="booking store")
        self._migrate()

    def _migrate(self) -> None:
        """Databases from before next keys: every key there was a signing key from its start."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(keys)")}
        if "signs_from" not in columns:
            with self._lock:
                self._db.execute("ALTER TABLE keys ADD COLUMN signs_from TEXT")
                self._db.execute("UPDATE keys SET signs_from = valid_from")

    # -- bookings --------------------------------------------------------------------------

    def add_booking(
        self, booking: Booking, day: date, token: str, kid: bytes, at: datetime
    ) -> None:
        """Store a newly issued booking."""
        b = booking
        with self._lock:
            self._db.execute(
                "INSERT INTO bookings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                (b.booking_id, b.branch, day.isoformat(), b.service, b.channel, b.party_size,
                 b.slot_start.isoformat(), b.slot_end.isoformat(), b.masked_name, token,
                 kid.hex(), _iso(at)),
            )  # fmt: skip

    def booking(self, booking_id: str) -> StoredBooking | None:
        """One booking by id, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM bookings WHERE booking_id = ?", (booking_id,)
            ).fetchone()
        return None if row is None else _stored(row)

    def day(self, branch: str, day: date) -> list[StoredBooking]:
        """A branch's bookings for one local day, by slot then id."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM bookings WHERE branch = ? AND day = ? ORDER BY slot_start, "
                "booking_id",
                (branch, day.isoformat()),
            ).fetchall()
        return [_stored(r) for r in rows]

    def signed_by(self, kid: bytes, ending_after: datetime) -> list[StoredBooking]:
        """Bookings whose token was signed by `kid` and whose slot ends after `ending_after`."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM bookings WHERE kid = ? ORDER BY slot_start, booking_id",
                (kid.hex(),),
            ).fetchall()
        stored = [_stored(r) for r in rows]
        return [s for s in stored if s.booking.slot_end > ending_after]

    def replace_token(self, booking_id: str, token: str, kid: bytes, at: datetime) -> None:
        """Store a booking's re-signed token (after its key was withdrawn)."""
        with self._lock:
            self._db.execute(
                "UPDATE bookings SET token = ?, kid = ?, issued_at = ? WHERE booking_id = ?",
                (token, kid.hex(), _iso(at), booking_id),
            )

    def cancel(self, booking_id: str, at: datetime) -> bool:
        """Mark a booking cancelled; False if unknown or already cancelled."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE bookings SET cancelled_at = ? WHERE booking_id = ?"
                " AND cancelled_at IS NULL",
                (_iso(at), booking_id),
            )
        return cursor.rowcount == 1

    def cancellations(self, branch: str, first: date, last: date) -> list[tuple[str, datetime]]:
        """(booking id, cancelled at) for a branch's cancelled bookings on days first..last."""
        with self._lock:
            rows = self._db.execute(
                "SELECT booking_id, cancelled_at FROM bookings WHERE branch = ? AND day >= ? AND "
                "day <= ? AND cancelled_at IS NOT NULL ORDER BY booking_id",
                (branch, first.isoformat(), last.isoformat()),
            ).fetchall()
        return [(r[0], datetime.fromisoformat(r[1])) for r in rows]

    # -- check-ins -------------------------------------------------------------------------

    def add_checkins(self, checkins: Iterable[tuple[str, str, datetime]]) -> int:
        """Record (booking id, kiosk id, at) check-ins reported by kiosks; returns how many new."""
        with self._lock:
            before = self._db.total_changes
            self._db.executemany(
                "INSERT INTO checkins VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [(b, k, _iso(at)) for b, k, at in checkins],
            )
            return self._db.total_changes - before

    def checkins(self, booking_ids: Iterable[str]) -> dict[str, list[tuple[str, datetime]]]:
        """Check-ins per booking id: [(kiosk id, at)], earliest first."""
        ids = list(booking_ids)
        out: dict[str, list[tuple[str, datetime]]] = {}
        with self._lock:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT booking_id, kiosk_id, at FROM checkins WHERE booking_id IN ({marks})"  # noqa: S608 (placeholders only)
                    " ORDER BY at",
                    chunk,
                ).fetchall()
                for booking_id, kiosk_id, at in rows:
                    out.setdefault(booking_id, []).append((kiosk_id, datetime.fromisoformat(at)))
        return out

    def duplicate_checkins(self, branch: str, day: date) -> dict[str, list[tuple[str, datetime]]]:
        """Bookings of a branch's day checked in at more than one kiosk: id → [(kiosk, at)]."""
        with self._lock:
            rows = self._db.execute(
                "SELECT c.booking_id, c.kiosk_id, c.at FROM checkins c JOIN bookings b"
                " ON b.booking_id = c.booking_id WHERE b.branch = ? AND b.day = ? AND"
                " c.booking_id IN (SELECT booking_id FROM checkins GROUP BY booking_id"
                " HAVING count(*) > 1) ORDER BY c.booking_id, c.at",
                (branch, day.isoformat()),
            ).fetchall()
        out: dict[str, list[tuple[str, datetime]]] = {}
        for booking_id, kiosk_id, at in rows:
            out.setdefault(booking_id, []).append((kiosk_id, datetime.fromisoformat(at)))
        return out

    # -- keys and the trust list -----------------------------------------------------------

    def add_key(self, key: KeyRow) -> None:
        """Record a new signing key's public half."""
        with self._lock:
            self._db.execute(
                "INSERT INTO keys (kid, public_key, valid_from, valid_until, withdrawn_at,"
                " signs_from) VALUES (?, ?, ?, ?, ?, ?)",
                (key.kid, key.public_key, _iso(key.valid_from), _iso(key.valid_until),
                 _iso_or_none(key.withdrawn_at), _iso_or_none(key.signs_from)),
            )  # fmt: skip

    def keys(self) -> list[KeyRow]:
        """Every signing key, oldest first (in the order added)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT kid, public_key, valid_from, valid_until, withdrawn_at, signs_from"
                " FROM keys ORDER BY valid_from, rowid"
            ).fetchall()
        return [
            KeyRow(r[0], r[1], datetime.fromisoformat(r[2]), datetime.fromisoformat(r[3]),
                   _time_or_none(r[4]), _time_or_none(r[5]))
            for r in rows
        ]  # fmt: skip

    def start_signing(self, kid: str, at: datetime) -> None:
        """Rotate to `kid` at `at`: it signs from then, and every other key signing at that
        time stops then (its tokens stay valid: they were issued inside its period)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("UPDATE keys SET signs_from = ? WHERE kid = ?", (_iso(at), kid))
                self._db.execute(
                    "UPDATE keys SET valid_until = ? WHERE kid != ? AND signs_from IS NOT NULL"
                    " AND valid_until > ?",
                    (_iso(at), kid, _iso(at)),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def withdraw_key(self, kid: str, at: datetime) -> bool:
        """Mark a key withdrawn; False if unknown or already withdrawn."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE keys SET withdrawn_at = ? WHERE kid = ? AND withdrawn_at IS NULL",
                (_iso(at), kid),
            )
        return cursor.rowcount == 1

    def meta(self, name: str) -> str | None:
        """A stored value (trust list document, sequence, cursors)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, name: str, value: str) -> None:
        """Store a value."""
        with self._lock:
            self._db.execute(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = "
                "excluded.value",
                (name, value),
            )

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else _iso(moment)


def _time_or_none(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _stored(row: tuple[object, ...]) -> StoredBooking:
    (booking_id, branch, _day, service, channel, party, start, end, name, token, _kid, issued,
     cancelled) = row  # fmt: skip
    booking = Booking(
        booking_id=str(booking_id),
        branch=str(branch),
        service=parse_service(str(service)),
        channel=parse_channel(str(channel)),
        party_size=int(str(party)),
        slot_start=datetime.fromisoformat(str(start)),
        slot_end=datetime.fromisoformat(str(end)),
        masked_name=str(name),
    )
    return StoredBooking(
        booking=booking,
        token=str(token),
        issued_at=datetime.fromisoformat(str(issued)),
        cancelled_at=None if cancelled is None else datetime.fromisoformat(str(cancelled)),
    )
