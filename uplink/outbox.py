"""The durable outbox: SQLite is the device's real message queue (paho's in-memory one stays tiny).

Durability argument:
- WAL journal with ``synchronous=FULL`` for the commit that records an event: when `record()`
  returns, the row has been fsync'ed and survives power loss.
- Removing acked rows commits with ``synchronous=NORMAL``: a power cut may roll that delete back,
  which only re-sends events the back office already has (same event id, stored once). The next
  FULL commit syncs the WAL, and with it every earlier delete.

Storage policy when space runs out (the outbox cap ``max_mb`` or the disk itself):
- telemetry is coalesced (one pending row per type) and refused beyond 90 % of the cap, so the
  last 10 % is kept for critical events;
- a critical event that does not fit purges all pending telemetry and retries; if it still does
  not fit, `OutboxFull` is raised and `storage_full` is set: the app must say so loudly.

Every other storage failure (an I/O error, a full disk while deleting acked rows) is raised as
`StorageError` from the call that met it; the caller keeps its loop running and tries again
later, and nothing already stored is lost. A file that is not a usable SQLite database at start
(corrupt, or truncated to 0 bytes) is moved aside next to itself, loudly, and a new outbox is
started with a `device.fault` event saying so: the device keeps serving.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from uplink.clock import Clock, SystemClock, utc_iso
from uplink.durable import open_or_replace
from uplink.errors import MessageError, OutboxFull, StorageError
from uplink.ids import EVENT_ID_PATTERN, new_event_id
from uplink.messages import Catalog, Envelope, catalog
from uplink.topics import check_id

logger = logging.getLogger(__name__)

TELEMETRY_SHARE = 0.9
TELEMETRY_DROP_LOG_EVERY = 100
_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT    NOT NULL UNIQUE,
    type     TEXT    NOT NULL,
    delivery TEXT    NOT NULL CHECK (delivery IN ('critical', 'telemetry')),
    body     BLOB    NOT NULL
);
"""


@dataclass(frozen=True)
class Row:
    """One pending event as the sender needs it."""

    seq: int
    event_id: str
    body: bytes


class Outbox:
    """Durable, ordered store of events awaiting the back office's acknowledgement.

    Thread-safe: the app records from its thread while the uplink reads and acks from its own.

    Args:
        path: SQLite file (on the persistent data partition on a device).
        device_id: this device's id; it goes into every envelope.
        clock: source of occurred_at and of the clock-sync flag.
        max_mb: cap on the outbox's size; see the module docstring for what happens at the cap.
        event_catalog: the event types; the contract's own catalog by default.

    Raises:
        StorageError: the file cannot be opened at all (a directory, no permission, no space).
    """

    def __init__(
        self,
        path: str | Path,
        device_id: str,
        *,
        clock: Clock | None = None,
        max_mb: float = 256.0,
        event_catalog: Catalog | None = None,
    ) -> None:
        self.device_id = check_id(device_id)
        self._clock = clock or SystemClock()
        self._catalog = event_catalog or catalog()
        self._lock = threading.Lock()
        self.storage_full = False
        self.telemetry_dropped = 0
        self.path = Path(path)
        self.moved_aside: Path | None = None
        """Where an unusable outbox found at start was moved (None: the file was fine)."""
        db, self.moved_aside, problem = open_or_replace(
            self.path, _SCHEMA, self._clock.now(), what="outbox"
        )
        self._db = db
        try:
            page_size = db.execute("PRAGMA page_size").fetchone()[0]
            self._max_pages = max(16, int(max_mb * 1024 * 1024) // page_size)
            db.execute(f"PRAGMA max_page_count={self._max_pages}")
            row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
        except sqlite3.Error as exc:
            db.close()
            raise _storage_error(self.path, "open", exc) from exc
        self._next_seq = (row[0] if row else 0) + 1
        if self.moved_aside is not None:
            self.record(
                "device.fault",
                {
                    "component": "outbox",
                    "code": "replaced_unusable",
                    "active": True,
                    "detail": f"{problem}; moved aside to {self.moved_aside.name}",
                },
            )

    def record(
        self,
        type_name: str,
        payload: Mapping[str, Any],
        *,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
    ) -> Envelope:
        """Validate and durably store one event; it is on disk when this returns.

        Args:
            event_id: the event's id when the caller fixed it before (an event held while the
                disk was full keeps the id it was held with): recording it again while it is
                pending stores nothing and returns the stored envelope. Default: a new id.

        Raises:
            MessageError: unknown type, a payload off its schema or an event id that is not
                one (a programming error).
            OutboxFull: a critical event found no room even after purging telemetry.
            StorageError: the outbox's file could not be written (I/O error).
        """
        event_type = self._catalog.get(type_name)
        self._catalog.validate_payload(event_type, payload)
        if event_id is not None and not EVENT_ID_PATTERN.fullmatch(event_id):
            raise MessageError(f"event id {event_id[:40]!r} is not one (26 characters, ULID)")
        with self._lock:
            if event_id is not None:
                stored = self._pending_envelope(event_id)
                if stored is not None:
                    return stored
            envelope = Envelope(
                event_id=event_id or new_event_id(),
                device_id=self.device_id,
                seq=self._next_seq,
                type=event_type.name,
                type_version=event_type.version,
                occurred_at=utc_iso(occurred_at or self._clock.now()),
                clock_synced=self._clock.synced(),
                payload=dict(payload),
            )
            try:
                body = envelope.to_json()
            except UnicodeEncodeError as exc:
                # A lone surrogate (from a badly decoded input) has no UTF-8 form.
                raise MessageError(
                    f"{event_type.name} payload holds text that is not valid Unicode "
                    f"({exc.reason} at position {exc.start}); decode inputs before recording"
                ) from None
            try:
                if event_type.delivery == "telemetry":
                    self._store_telemetry(envelope, body)
                else:
                    self._store_critical(envelope, body)
            except sqlite3.Error as exc:
                raise _storage_error(self.path, f"store {envelope.type}", exc) from exc
            self._next_seq += 1
        return envelope

    def _pending_envelope(self, event_id: str) -> Envelope | None:
        """The pending event stored with `event_id`, if any (under the lock)."""
        try:
            row = self._db.execute(
                "SELECT body FROM outbox WHERE event_id = ?", (event_id,)
            ).fetchone()
        except sqlite3.Error as exc:
            raise _storage_error(self.path, "read a pending event", exc) from exc
        return None if row is None else Envelope.from_json(bytes(row[0]))

    def after(self, seq: int, limit: int) -> list[Row]:
        """Pending events with a sequence number above `seq`, oldest first.

        Raises:
            StorageError: the outbox could not be read.
        """
        with self._lock:
            try:
                rows = self._db.execute(
                    "SELECT seq, event_id, body FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                    (seq, limit),
                ).fetchall()
            except sqlite3.Error as exc:
                raise _storage_error(self.path, "read pending events", exc) from exc
        return [Row(*r) for r in rows]

    def get(self, event_ids: Iterable[str]) -> list[Row]:
        """The pending events among `event_ids`, oldest first (acked ones are gone).

        Raises:
            StorageError: the outbox could not be read.
        """
        ids = list(event_ids)
        with self._lock:
            try:
                rows = self._db.execute(
                    "SELECT seq, event_id, body FROM outbox WHERE event_id IN "
                    "(SELECT value FROM json_each(?)) ORDER BY seq",
                    (_json_list(ids),),
                ).fetchall()
            except sqlite3.Error as exc:
                raise _storage_error(self.path, "read events to re-send", exc) from exc
        return [Row(*r) for r in rows]

    def ack(self, event_ids: Iterable[str]) -> int:
        """Remove acknowledged events (one transaction); returns how many were still pending.

        Raises:
            StorageError: the delete could not be written (a delete needs room in the WAL
                too); every row stays, is re-sent, and the back office acks it again.
        """
        ids = list(event_ids)
        with self._lock:
            try:
                self._db.execute("PRAGMA synchronous=NORMAL")
                try:
                    cur = self._db.execute(
                        "DELETE FROM outbox WHERE event_id IN (SELECT value FROM json_each(?))",
                        (_json_list(ids),),
                    )
                finally:
                    self._db.execute("PRAGMA synchronous=FULL")
            except sqlite3.Error as exc:
                self._rollback()
                raise _storage_error(self.path, "remove acked events", exc) from exc
            if cur.rowcount and self.storage_full:
                self.storage_full = False
                logger.warning("outbox has room again after acks")
            return cur.rowcount

    def pending(self) -> int:
        """How many events await the back office's ack.

        Raises:
            StorageError: the outbox could not be read.
        """
        with self._lock:
            try:
                return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])
            except sqlite3.Error as exc:
                raise _storage_error(self.path, "count pending events", exc) from exc

    def is_empty(self) -> bool:
        """True when no event awaits an ack: a look at one row, where `pending()` counts them
        all (it reads every row, holding the lock the sender and the ack handler need).

        Raises:
            StorageError: the outbox could not be read.
        """
        with self._lock:
            try:
                return self._db.execute("SELECT 1 FROM outbox LIMIT 1").fetchone() is None
            except sqlite3.Error as exc:
                raise _storage_error(self.path, "look for pending events", exc) from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _store_critical(self, envelope: Envelope, body: bytes) -> None:
        try:
            self._insert(envelope, body, "critical")
        except sqlite3.OperationalError as exc:
            if not _is_full(exc):
                raise
        else:
            self.storage_full = False
            return
        try:
            purged = self._db.execute("DELETE FROM outbox WHERE delivery = 'telemetry'").rowcount
            logger.error("outbox full: purged %d telemetry rows to store %s", purged, envelope.type)
            self._insert(envelope, body, "critical")
        except sqlite3.OperationalError as exc:
            if not _is_full(exc):
                raise
            self._rollback()
            self.storage_full = True
            logger.critical("outbox full: could not store critical event %s", envelope.type)
            raise OutboxFull(
                f"no room to store {envelope.type} in {self.path}: the outbox cap or the disk "
                "is full; free space on the data partition (or raise outbox_max_mb) and restore "
                "the uplink so the back office can ack pending events"
            ) from exc
        self.storage_full = False

    def _store_telemetry(self, envelope: Envelope, body: bytes) -> None:
        if self._used_pages() > TELEMETRY_SHARE * self._max_pages:
            self._drop_telemetry("outbox nearly full", envelope.type)
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "DELETE FROM outbox WHERE type = ? AND delivery = 'telemetry'", (envelope.type,)
            )
            self._db.execute(
                "INSERT INTO outbox (seq, event_id, type, delivery, body) VALUES (?, ?, ?, ?, ?)",
                (envelope.seq, envelope.event_id, envelope.type, "telemetry", body),
            )
            self._db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            self._rollback()
            if not _is_full(exc):
                raise
            self._drop_telemetry("outbox full", envelope.type)

    def _drop_telemetry(self, why: str, type_name: str) -> None:
        self.telemetry_dropped += 1
        if self.telemetry_dropped % TELEMETRY_DROP_LOG_EVERY == 1:  # no log flood when full
            logger.warning(
                "%s: dropped telemetry %s (%d dropped so far)",
                why,
                type_name,
                self.telemetry_dropped,
            )

    def _rollback(self) -> None:
        # SQLite rolls a transaction back by itself on some errors (a full disk among them):
        # a second ROLLBACK would fail with "no transaction is active".
        if self._db.in_transaction:
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.Error:
                logger.warning("outbox rollback failed", exc_info=True)

    def _insert(self, envelope: Envelope, body: bytes, delivery: str) -> None:
        # Autocommit mode: the single INSERT is its own transaction, synced before returning.
        self._db.execute(
            "INSERT INTO outbox (seq, event_id, type, delivery, body) VALUES (?, ?, ?, ?, ?)",
            (envelope.seq, envelope.event_id, envelope.type, delivery, body),
        )

    def _used_pages(self) -> int:
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        free = self._db.execute("PRAGMA freelist_count").fetchone()[0]
        return int(pages - free)


def _is_full(exc: sqlite3.Error) -> bool:
    return (exc.sqlite_errorcode & 0xFF) == sqlite3.SQLITE_FULL


def _storage_error(path: Path, doing: str, exc: sqlite3.Error) -> StorageError:
    return StorageError(
        f"outbox {path}: cannot {doing} ({exc}); check the data partition "
        "(space, permissions, health); nothing already stored is lost"
    )


def _json_list(ids: list[str]) -> str:
    return json.dumps(ids)
