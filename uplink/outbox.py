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
from uplink.durable import open_durable
from uplink.errors import OutboxFull
from uplink.ids import new_event_id
from uplink.messages import Catalog, Envelope, catalog
from uplink.topics import check_id

logger = logging.getLogger(__name__)

TELEMETRY_SHARE = 0.9
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
        self._db = open_durable(path, _SCHEMA)
        page_size = self._db.execute("PRAGMA page_size").fetchone()[0]
        self._max_pages = max(16, int(max_mb * 1024 * 1024) // page_size)
        self._db.execute(f"PRAGMA max_page_count={self._max_pages}")
        row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
        self._next_seq = (row[0] if row else 0) + 1

    def record(
        self, type_name: str, payload: Mapping[str, Any], *, occurred_at: datetime | None = None
    ) -> Envelope:
        """Validate and durably store one event; it is on disk when this returns.

        Raises:
            MessageError: unknown type or a payload off its schema (a programming error).
            OutboxFull: a critical event found no room even after purging telemetry.
        """
        event_type = self._catalog.get(type_name)
        self._catalog.validate_payload(event_type, payload)
        with self._lock:
            envelope = Envelope(
                event_id=new_event_id(),
                device_id=self.device_id,
                seq=self._next_seq,
                type=event_type.name,
                type_version=event_type.version,
                occurred_at=utc_iso(occurred_at or self._clock.now()),
                clock_synced=self._clock.synced(),
                payload=dict(payload),
            )
            if event_type.delivery == "telemetry":
                self._store_telemetry(envelope)
            else:
                self._store_critical(envelope)
            self._next_seq += 1
        return envelope

    def after(self, seq: int, limit: int) -> list[Row]:
        """Pending events with a sequence number above `seq`, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, event_id, body FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, limit),
            ).fetchall()
        return [Row(*r) for r in rows]

    def get(self, event_ids: Iterable[str]) -> list[Row]:
        """The pending events among `event_ids`, oldest first (acked ones are gone)."""
        ids = list(event_ids)
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, event_id, body FROM outbox WHERE event_id IN "
                "(SELECT value FROM json_each(?)) ORDER BY seq",
                (_json_list(ids),),
            ).fetchall()
        return [Row(*r) for r in rows]

    def ack(self, event_ids: Iterable[str]) -> int:
        """Remove acknowledged events; returns how many were still pending."""
        ids = list(event_ids)
        with self._lock:
            self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                cur = self._db.execute(
                    "DELETE FROM outbox WHERE event_id IN (SELECT value FROM json_each(?))",
                    (_json_list(ids),),
                )
            finally:
                self._db.execute("PRAGMA synchronous=FULL")
            if cur.rowcount and self.storage_full:
                self.storage_full = False
                logger.warning("outbox has room again after acks")
            return cur.rowcount

    def pending(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _store_critical(self, envelope: Envelope) -> None:
        try:
            self._insert(envelope, "critical")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_FULL:
                raise
        purged = self._db.execute("DELETE FROM outbox WHERE delivery = 'telemetry'").rowcount
        logger.error("outbox full: purged %d telemetry rows to store %s", purged, envelope.type)
        try:
            self._insert(envelope, "critical")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_FULL:
                raise
            self.storage_full = True
            logger.critical("outbox full: could not store critical event %s", envelope.type)
            raise OutboxFull(
                f"no room to store {envelope.type}: the outbox cap or the disk is full; "
                "restore the uplink so the back office can ack pending events, or free disk space"
            ) from exc

    def _store_telemetry(self, envelope: Envelope) -> None:
        if self._used_pages() > TELEMETRY_SHARE * self._max_pages:
            self.telemetry_dropped += 1
            logger.warning("outbox nearly full: dropped telemetry %s", envelope.type)
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(
                "DELETE FROM outbox WHERE type = ? AND delivery = 'telemetry'", (envelope.type,)
            )
            self._db.execute(
                "INSERT INTO outbox (seq, event_id, type, delivery, body) VALUES (?, ?, ?, ?, ?)",
                (envelope.seq, envelope.event_id, envelope.type, "telemetry", envelope.to_json()),
            )
            self._db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            self._db.execute("ROLLBACK")
            if exc.sqlite_errorcode != sqlite3.SQLITE_FULL:
                raise
            self.telemetry_dropped += 1
            logger.warning("outbox full: dropped telemetry %s", envelope.type)

    def _insert(self, envelope: Envelope, delivery: str) -> None:
        # Autocommit mode: the single INSERT is its own transaction, synced before returning.
        self._db.execute(
            "INSERT INTO outbox (seq, event_id, type, delivery, body) VALUES (?, ?, ?, ?, ?)",
            (envelope.seq, envelope.event_id, envelope.type, delivery, envelope.to_json()),
        )

    def _used_pages(self) -> int:
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        free = self._db.execute("PRAGMA freelist_count").fetchone()[0]
        return int(pages - free)


def _json_list(ids: list[str]) -> str:
    return json.dumps(ids)
