"""The back office's durable event store. SQLite here; the SQL is plain enough for PostgreSQL
(``INSERT ... ON CONFLICT DO NOTHING``), and the receiver only needs the `EventStore` protocol."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from uplink.durable import open_store
from uplink.messages import Envelope, check_event_key

# One encoder for every payload: json.dumps with an option builds a new one per call, a good
# share of the time it takes to store a small event.
_PAYLOAD_JSON = json.JSONEncoder(ensure_ascii=False)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    event_id     TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    type         TEXT NOT NULL,
    type_version INTEGER NOT NULL,
    occurred_at  TEXT NOT NULL,
    clock_synced INTEGER NOT NULL,
    payload      TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    PRIMARY KEY (device_id, event_id)
);
CREATE INDEX IF NOT EXISTS events_by_device ON events (device_id, seq);
CREATE TABLE IF NOT EXISTS devices (
    device_id       TEXT PRIMARY KEY,
    online          INTEGER,
    status_at       TEXT,
    pending         INTEGER,
    storage_full    INTEGER,
    last_event_type TEXT,
    last_event_at   TEXT,
    state           TEXT,
    software        TEXT
);
CREATE TABLE IF NOT EXISTS rejected (
    id          INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL,
    topic       TEXT NOT NULL,
    event_id    TEXT,
    reason      TEXT NOT NULL,
    raw         BLOB NOT NULL
);
"""


@dataclass(frozen=True)
class DeviceRow:
    device_id: str
    online: bool | None
    status_at: str | None
    pending: int | None
    storage_full: bool
    last_event_type: str | None
    last_event_at: str | None
    state: Any
    software: str | None = None


@dataclass(frozen=True)
class EventRow:
    rowid: int
    event_id: str
    device_id: str
    seq: int
    type: str
    occurred_at: str
    payload: dict[str, Any]


class EventStore(Protocol):
    """What the receiver needs from storage."""

    def store_events(self, envelopes: Sequence[Envelope], received_at: str) -> int: ...

    def store_rejected(
        self, topic: str, raw: bytes, reason: str, received_at: str, event_id: str | None = None
    ) -> None: ...

    def set_status(self, device_id: str, status: dict[str, Any]) -> None: ...

    def set_state(self, device_id: str, state: dict[str, Any]) -> None: ...


class SqliteEventStore:
    """Event store in one SQLite file (WAL, synchronous=FULL: an ack follows a synced commit)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        _migrate_event_key(self.path)
        self._db = open_store(self.path, _SCHEMA, what="event store")
        _add_column(self._db, "devices", "software", "TEXT")

    def store_events(self, envelopes: Sequence[Envelope], received_at: str) -> int:
        """Insert new events; returns how many were new.

        An event is its device's: the key is (device_id, event_id), so a device reusing another
        device's id is stored as its own, never acked as a duplicate of the other's.

        Raises:
            MessageError: an event id that is not a ULID or a `seq` out of range (before any
                write: the batch is refused whole, nothing is half stored).
        """
        for e in envelopes:
            check_event_key(e.event_id, e.seq)
        rows = [
            (
                e.event_id,
                e.device_id,
                e.seq,
                e.type,
                e.type_version,
                e.occurred_at,
                int(e.clock_synced),
                _PAYLOAD_JSON.encode(e.payload),
                received_at,
            )
            for e in envelopes
        ]
        latest: dict[str, Envelope] = {}
        for e in envelopes:
            if e.device_id not in latest or e.seq > latest[e.device_id].seq:
                latest[e.device_id] = e
        with self._lock, self._transaction():
            before = self._db.total_changes
            self._db.executemany(
                "INSERT INTO events (event_id, device_id, seq, type, type_version, occurred_at,"
                " clock_synced, payload, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (device_id, event_id) DO NOTHING",
                rows,
            )
            new = self._db.total_changes - before
            for e in latest.values():
                pending = e.payload.get("pending") if e.type == "device.heartbeat" else None
                self._db.execute(
                    "INSERT INTO devices (device_id, last_event_type, last_event_at, pending)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET"
                    " last_event_type = excluded.last_event_type,"
                    " last_event_at = excluded.last_event_at,"
                    " pending = coalesce(excluded.pending, devices.pending)",
                    (e.device_id, e.type, e.occurred_at, pending),
                )
        return new

    def store_rejected(
        self, topic: str, raw: bytes, reason: str, received_at: str, event_id: str | None = None
    ) -> None:
        with self._lock, self._transaction():
            self._db.execute(
                "INSERT INTO rejected (received_at, topic, event_id, reason, raw)"
                " VALUES (?, ?, ?, ?, ?)",
                (received_at, topic, event_id, reason, raw),
            )

    def set_status(self, device_id: str, status: dict[str, Any]) -> None:
        with self._lock, self._transaction():
            self._db.execute(
                "INSERT INTO devices (device_id, online, status_at, pending, storage_full,"
                " software) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET"
                " online = excluded.online, status_at = excluded.status_at,"
                " pending = coalesce(excluded.pending, devices.pending),"
                " storage_full = excluded.storage_full,"
                " software = coalesce(excluded.software, devices.software)",
                (
                    device_id,
                    int(bool(status.get("online"))),
                    status.get("at"),
                    status.get("pending"),
                    int(bool(status.get("storage_full"))),
                    # The last will carries no version: keep the one the device last announced.
                    software if isinstance(software := status.get("software"), str) else None,
                ),
            )

    def set_state(self, device_id: str, state: dict[str, Any]) -> None:
        with self._lock, self._transaction():
            self._db.execute(
                "INSERT INTO devices (device_id, state) VALUES (?, ?)"
                " ON CONFLICT (device_id) DO UPDATE SET state = excluded.state",
                (device_id, json.dumps(state, ensure_ascii=False)),
            )

    # -- queries (watch, reports, tests) ------------------------------------------------------

    def devices(self) -> list[DeviceRow]:
        with self._lock:
            rows = self._db.execute(
                "SELECT device_id, online, status_at, pending, storage_full, last_event_type,"
                " last_event_at, state, software FROM devices ORDER BY device_id"
            ).fetchall()
        return [
            DeviceRow(
                r[0],
                None if r[1] is None else bool(r[1]),
                r[2],
                r[3],
                bool(r[4]),
                r[5],
                r[6],
                _json_or_none(r[7]),
                r[8],
            )
            for r in rows
        ]

    def events_after(
        self, rowid: int = 0, limit: int = 100, type_prefix: str = ""
    ) -> list[EventRow]:
        with self._lock:
            rows = self._db.execute(
                "SELECT rowid, event_id, device_id, seq, type, occurred_at, payload FROM events"
                " WHERE rowid > ? AND type LIKE ? ORDER BY rowid LIMIT ?",
                (rowid, type_prefix + "%", limit),
            ).fetchall()
        return [EventRow(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6])) for r in rows]

    def latest_events(self, limit: int = 20) -> list[EventRow]:
        with self._lock:
            rows = self._db.execute(
                "SELECT rowid, event_id, device_id, seq, type, occurred_at, payload FROM events"
                " ORDER BY rowid DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            EventRow(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6])) for r in reversed(rows)
        ]

    def event_ids(self, type_name: str | None = None) -> list[str]:
        with self._lock:
            if type_name is None:
                rows = self._db.execute("SELECT event_id FROM events").fetchall()
            else:
                rows = self._db.execute(
                    "SELECT event_id FROM events WHERE type = ?", (type_name,)
                ).fetchall()
        return [r[0] for r in rows]

    def count(self, type_name: str | None = None) -> int:
        """Stored events, of one type or all."""
        with self._lock:
            if type_name is None:
                row = self._db.execute("SELECT count(*) FROM events").fetchone()
            else:
                row = self._db.execute(
                    "SELECT count(*) FROM events WHERE type = ?", (type_name,)
                ).fetchone()
        return int(row[0])

    def count_by_type(self) -> dict[str, int]:
        """Stored events per type, by type name."""
        with self._lock:
            rows = self._db.execute(
                "SELECT type, count(*) FROM events GROUP BY type ORDER BY type"
            ).fetchall()
        return {str(name): int(n) for name, n in rows}

    def rejected_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM rejected").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


def _json_or_none(text: str | None) -> Any:
    """Stored JSON, or None when there is none or it does not parse (views must not crash)."""
    if not text:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _add_column(db: sqlite3.Connection, table: str, column: str, kind: str) -> None:
    """Add a column a store made by an older version lacks (SQLite has no ADD IF NOT EXISTS)."""
    columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
    if column not in columns:
        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


def ids_of(rows: Iterable[EventRow]) -> list[str]:
    return [r.event_id for r in rows]


def _migrate_event_key(path: Path) -> None:
    """Re-key a store made when events were keyed on event_id alone (device_id, event_id)."""
    if not path.is_file():
        return
    try:
        db = sqlite3.connect(path, isolation_level=None)
    except sqlite3.Error:
        return  # open_durable says what is wrong with the file, in one line
    try:
        row = db.execute("SELECT sql FROM sqlite_master WHERE name = 'events'").fetchone()
        if row is None or "PRIMARY KEY (device_id, event_id)" in row[0]:
            return
        columns = (
            "event_id, device_id, seq, type, type_version, occurred_at, clock_synced, payload,"
            " received_at"
        )
        table = _SCHEMA.split(";", 1)[0].replace("IF NOT EXISTS ", "")
        db.execute("BEGIN IMMEDIATE")
        db.execute("ALTER TABLE events RENAME TO events_by_id")
        db.execute(table)
        db.execute(
            f"INSERT INTO events (rowid, {columns}) SELECT rowid, {columns} FROM events_by_id"  # noqa: S608
        )
        db.execute("DROP TABLE events_by_id")
        db.execute("COMMIT")
    except sqlite3.Error:
        return  # not a usable database: open_durable reports it
    finally:
        db.close()
