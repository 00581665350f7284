"""The back office's event store in PostgreSQL: head office, several receivers, one database.

Same contract as `backoffice.store.SqliteEventStore`: events are keyed on (device_id, event_id)
and stored once; `store_events` returns only after the commit (``synchronous_commit`` stays on,
so the receiver acks what is on disk); rejected messages are kept aside; device status and state
are one row per device. The schema is created and migrated here, recorded in `schema_version`.

Several receivers write at once. Each batch takes one transaction-scoped advisory lock before it
inserts, so event ids (``id``) are handed out in commit order: a reader that keeps a cursor on
``id`` (`events_after`, the bookings' check-in import) never skips a row committed late. The
expensive part of a batch (MQTT, JSON, schema checks) stays parallel across receivers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from backoffice.store import DeviceRow, EventRow
from backoffice.stores import DatabaseError
from uplink.messages import Envelope

logger = logging.getLogger(__name__)

# One advisory-lock key space of our own (arbitrary constants, "LAPAK" + purpose).
_LOCK_MIGRATE = 0x4C4150414B01
_LOCK_INGEST = 0x4C4150414B02
_BIGINT_MAX = 2**63 - 1

# Each entry moves the schema from version i to i + 1; never edit one that has shipped, append.
# Payloads and states are `json` (kept as sent, escapes included; `jsonb` refuses "\u0000",
# which a device may legitimately send inside a string): cast to jsonb in ad-hoc queries.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE events (
        id           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        device_id    text NOT NULL,
        event_id     text NOT NULL,
        seq          bigint NOT NULL,
        type         text NOT NULL,
        type_version integer NOT NULL,
        occurred_at  text NOT NULL,
        clock_synced boolean NOT NULL,
        payload      json NOT NULL,
        received_at  text NOT NULL,
        PRIMARY KEY (device_id, event_id)
    );
    CREATE TABLE devices (
        device_id       text PRIMARY KEY,
        online          boolean,
        status_at       text,
        pending         bigint,
        storage_full    boolean NOT NULL DEFAULT false,
        last_event_type text,
        last_event_at   text,
        last_seq        bigint,
        state           json
    );
    CREATE TABLE rejected (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        received_at text NOT NULL,
        topic       text NOT NULL,
        event_id    text,
        reason      text NOT NULL,
        raw         bytea NOT NULL
    );
    """,
    # The software version each device announces in its status (`backoffice watch` shows it).
    "ALTER TABLE devices ADD COLUMN software text",
)


def describe(url: str, key: str = "database_url") -> str:
    """The database a URL names, for messages: host, port and name, never the password."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return f"the configured {key}"
    host = parts.get("host") or "localhost"
    return (
        f"{parts.get('dbname') or parts.get('user') or '?'} at {host}:{parts.get('port') or 5432}"
    )


def _text(value: object) -> str | None:
    """A device-sent string as PostgreSQL text, which holds neither NUL nor lone surrogates
    (both replaced by U+FFFD), or None if it is not a string."""
    if not isinstance(value, str):
        return None
    return (
        value.encode("utf-8", "surrogatepass").decode("utf-8", "replace").replace("\x00", "\ufffd")
    )


def _integer(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _BIGINT_MAX:
        return value
    return None


def _json(value: object) -> str:
    # ensure_ascii: control characters and lone surrogates travel as \u escapes, which `json`
    # columns accept, instead of raw bytes that PostgreSQL text rejects.
    return json.dumps(value)


class _FailedAttempts(logging.Filter):
    """Holds back the pool's warnings about failed connection attempts while it opens,
    keeping the last one's reason for the error message."""

    def __init__(self, pool_name: str) -> None:
        super().__init__()
        self._pool_name = pool_name
        self.last: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        if record.levelno != logging.WARNING or not args or args[0] != self._pool_name:
            return True
        if record.msg.startswith("error connecting in") and len(args) == 2:
            self.last = str(args[1]).strip().splitlines()[0] if str(args[1]).strip() else None
        return False

    def reason(self, exc: Exception) -> str:
        """The last failed attempt's reason, or the exception's type when there was none."""
        return self.last or type(exc).__name__


class PostgresEventStore:
    """Event store in a PostgreSQL database, shared by any number of receivers and readers."""

    def __init__(
        self,
        url: str,
        *,
        max_connections: int = 4,
        timeout_s: float = 10.0,
        key: str = "database_url",
    ) -> None:
        """Connect (a small pool: the receiver's writes and the readers' queries) and bring
        the schema to the current version.

        `key` is the config key that holds `url` (`database_url` in the receiver's config,
        `event_store_url` in the booking back office's), named in the message when it fails.

        Raises:
            DatabaseError: the server cannot be reached in `timeout_s`, or its schema is newer
                than this back office.
        """
        self.where = describe(url, key)
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            open=False,
            check=ConnectionPool.check_connection,
            name="backoffice-events",
        )
        # The pool logs a WARNING per failed attempt; at start they are said once, in the
        # one line below (its reason), not as lines of log before it.
        attempts = _FailedAttempts(self._pool.name)
        pool_logger = logging.getLogger("psycopg.pool")
        pool_logger.addFilter(attempts)
        try:
            self._pool.open(wait=True, timeout=timeout_s)
        except Exception as exc:
            self._pool.close()
            raise DatabaseError(
                f"cannot reach the event database {self.where} ({attempts.reason(exc)}); check"
                f" {key} and that PostgreSQL is running and accepts this user"
            ) from exc
        finally:
            pool_logger.removeFilter(attempts)
        try:
            self.schema_version = self._migrate()
        except BaseException:
            self._pool.close()
            raise

    def _migrate(self) -> int:
        with self._pool.connection() as conn, conn.transaction():
            # Receivers starting together: one migrates, the others wait and find it done.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_MIGRATE,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                " version integer PRIMARY KEY,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
            current = int(row[0]) if row else 0
            if current > len(MIGRATIONS):
                raise DatabaseError(
                    f"the event database {self.where} has schema version {current}; this back"
                    f" office knows up to {len(MIGRATIONS)}: upgrade the back office"
                )
            for version in range(current + 1, len(MIGRATIONS) + 1):
                logger.info(
                    "event database %s: migrating to schema version %d", self.where, version
                )
                conn.execute(sql.SQL(MIGRATIONS[version - 1]))
                conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
        return len(MIGRATIONS)

    # -- the receiver's writes (EventStore) ----------------------------------------------------

    def store_events(self, envelopes: Sequence[Envelope], received_at: str) -> int:
        """Insert new events (one already stored for its device and event id is ignored);
        returns how many were new. Returns after the commit."""
        if not envelopes:
            return 0
        columns: tuple[list[Any], ...] = ([], [], [], [], [], [], [], [])
        latest: dict[str, Envelope] = {}
        for e in envelopes:
            for column, value in zip(
                columns,
                (
                    e.device_id,
                    e.event_id,
                    e.seq,
                    e.type,
                    e.type_version,
                    e.occurred_at,
                    e.clock_synced,
                    _json(e.payload),
                ),
                strict=True,
            ):
                column.append(value)
            if e.device_id not in latest or e.seq > latest[e.device_id].seq:
                latest[e.device_id] = e
        devices = sorted(latest.values(), key=lambda e: e.device_id)
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_INGEST,))
            cursor = conn.execute(
                "INSERT INTO events (device_id, event_id, seq, type, type_version, occurred_at,"
                " clock_synced, payload, received_at)"
                " SELECT d, e, s, t, v, o, c, p::json, %s FROM unnest("
                "%s::text[], %s::text[], %s::bigint[], %s::text[], %s::integer[], %s::text[],"
                " %s::boolean[], %s::text[]) AS u(d, e, s, t, v, o, c, p)"
                " ON CONFLICT (device_id, event_id) DO NOTHING",
                (received_at, *columns),
            )
            new = cursor.rowcount
            conn.execute(
                "INSERT INTO devices (device_id, last_event_type, last_event_at, last_seq, pending)"
                " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::bigint[],"
                " %s::bigint[]) ON CONFLICT (device_id) DO UPDATE SET"
                " last_event_type = excluded.last_event_type,"
                " last_event_at = excluded.last_event_at, last_seq = excluded.last_seq,"
                " pending = coalesce(excluded.pending, devices.pending)"
                # A re-sent old event (or another receiver's older batch) does not go back in time.
                " WHERE devices.last_seq IS NULL OR devices.last_seq <= excluded.last_seq",
                (
                    [e.device_id for e in devices],
                    [e.type for e in devices],
                    [e.occurred_at for e in devices],
                    [e.seq for e in devices],
                    [
                        _integer(e.payload.get("pending")) if e.type == "device.heartbeat" else None
                        for e in devices
                    ],
                ),
            )
        return new

    def store_rejected(
        self, topic: str, raw: bytes, reason: str, received_at: str, event_id: str | None = None
    ) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO rejected (received_at, topic, event_id, reason, raw)"
                " VALUES (%s, %s, %s, %s, %s)",
                (received_at, _text(topic), _text(event_id), _text(reason), raw),
            )

    def set_status(self, device_id: str, status: dict[str, Any]) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO devices (device_id, online, status_at, pending, storage_full,"
                " software) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (device_id) DO UPDATE SET"
                " online = excluded.online, status_at = excluded.status_at,"
                " pending = coalesce(excluded.pending, devices.pending),"
                " storage_full = excluded.storage_full,"
                # The last will carries no version: keep the one the device last announced.
                " software = coalesce(excluded.software, devices.software)",
                (
                    device_id,
                    bool(status.get("online")),
                    _text(status.get("at")),
                    _integer(status.get("pending")),
                    bool(status.get("storage_full")),
                    _text(status.get("software")),
                ),
            )

    def set_state(self, device_id: str, state: dict[str, Any]) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO devices (device_id, state) VALUES (%s, %s::json)"
                " ON CONFLICT (device_id) DO UPDATE SET state = excluded.state",
                (device_id, _json(state)),
            )

    # -- queries (watch, reports, tests) ------------------------------------------------------

    def devices(self) -> list[DeviceRow]:
        rows = self._fetch(
            "SELECT device_id, online, status_at, pending, storage_full, last_event_type,"
            " last_event_at, state, software FROM devices ORDER BY device_id"
        )
        return [
            DeviceRow(
                r[0],
                r[1],
                r[2],
                r[3],
                bool(r[4]),
                r[5],
                r[6],
                r[7],
                r[8],
            )
            for r in rows
        ]

    def events_after(
        self, rowid: int = 0, limit: int = 100, type_prefix: str = ""
    ) -> list[EventRow]:
        rows = self._fetch(
            "SELECT id, event_id, device_id, seq, type, occurred_at, payload FROM events"
            " WHERE id > %s AND type LIKE %s ORDER BY id LIMIT %s",
            (rowid, _like_prefix(type_prefix), limit),
        )
        return [_event_row(r) for r in rows]

    def latest_events(self, limit: int = 20) -> list[EventRow]:
        rows = self._fetch(
            "SELECT id, event_id, device_id, seq, type, occurred_at, payload FROM events"
            " ORDER BY id DESC LIMIT %s",
            (limit,),
        )
        return [_event_row(r) for r in reversed(rows)]

    def event_ids(self, type_name: str | None = None) -> list[str]:
        if type_name is None:
            rows = self._fetch("SELECT event_id FROM events ORDER BY id")
        else:
            rows = self._fetch(
                "SELECT event_id FROM events WHERE type = %s ORDER BY id", (type_name,)
            )
        return [str(r[0]) for r in rows]

    def count(self, type_name: str | None = None) -> int:
        """Stored events, of one type or all."""
        if type_name is None:
            rows = self._fetch("SELECT count(*) FROM events")
        else:
            rows = self._fetch("SELECT count(*) FROM events WHERE type = %s", (type_name,))
        return int(rows[0][0])

    def count_by_type(self) -> dict[str, int]:
        """Stored events per type, by type name."""
        rows = self._fetch("SELECT type, count(*) FROM events GROUP BY type ORDER BY type")
        return {str(name): int(n) for name, n in rows}

    def rejected_count(self) -> int:
        return int(self._fetch("SELECT count(*) FROM rejected")[0][0])

    def close(self) -> None:
        self._pool.close()

    def _fetch(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._pool.connection() as conn:
            return conn.execute(query, params).fetchall()


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _event_row(r: tuple[Any, ...]) -> EventRow:
    payload = r[6] if isinstance(r[6], dict) else {}
    return EventRow(int(r[0]), str(r[1]), str(r[2]), int(r[3]), str(r[4]), str(r[5]), payload)
