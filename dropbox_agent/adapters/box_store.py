"""The box store: the box's own SQLite memory, its counters and the rolling raw input log.

Durability: the counters are saved right after the deposit event it counts has been committed to
the uplink's outbox; both commits use synchronous=FULL, so a power cut loses neither. If the
process dies between the two commits, the agent reconciles the counters with the deposits still
pending in the outbox at start-up (`restore.caught_up`). Raw-log rows use synchronous=NORMAL
(WAL): they survive a killed process; a power cut may lose the last few. Events held while the
disk is full are not kept here but in `<file>.held`, allocated at start (`HeldJournal`): a full
disk has no room for new SQLite pages. The counters' table keeps its first name, `ledger`, so a
box updated in the field finds them.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from dropbox_agent.adapters.held_journal import HeldJournal, HeldJournalError, legacy_event_id
from dropbox_agent.domain.model import (
    Authorization,
    BookingScanned,
    BoxCounters,
    CountEntered,
    Edge,
    FaultReport,
    FillReading,
    Input,
    MachineInput,
)
from dropbox_agent.ports import HeldEvent
from uplink.clock import utc_iso
from uplink.durable import open_or_replace

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS held (
    id      INTEGER PRIMARY KEY,
    type    TEXT NOT NULL,
    payload TEXT NOT NULL,
    wall    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS raw_log (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    boot TEXT NOT NULL,
    wall TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL
);
"""
_KINDS: dict[str, type[Any]] = {
    "edge": Edge,
    "auth": Authorization,
    "count": CountEntered,
    "fill": FillReading,
    "booking": BookingScanned,
    "fault": FaultReport,
}
_KIND_OF = {cls: kind for kind, cls in _KINDS.items()}
TRIM_EVERY = 1000

logger = logging.getLogger(__name__)


def encode_input(item: MachineInput) -> tuple[str, str]:
    """(kind, JSON body) of one input, for the raw log."""
    return _KIND_OF[type(item)], json.dumps(asdict(item), separators=(",", ":"))


def decode_input(kind: str, body: str) -> MachineInput:
    """The inverse of `encode_input`.

    Raises:
        ValueError: an unknown kind or a malformed body.
    """
    try:
        cls = _KINDS[kind]
        data = json.loads(body)
        if cls is Edge:
            data["input"] = Input(data["input"])
        item: MachineInput = cls(**data)
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"raw log row of kind {kind!r} is malformed: {exc}") from None
    return item


class SqliteBoxStore:
    """The box store: counters, raw log and (beside it) the held-events journal.

    Args:
        path: the file (on the persistent data partition).
        boot_id: tags raw-log rows; monotonic times only compare within one boot.
        max_rows: raw-log rows kept (the oldest are trimmed).
    """

    def __init__(self, path: str | Path, *, boot_id: str, max_rows: int = 200_000) -> None:
        self.path = Path(path)
        self._boot = boot_id
        self._max_rows = max_rows
        self._appended = 0
        self._lock = threading.Lock()
        # A corrupt file is moved aside (logged loudly) and a new one started: the agent
        # reconciles the counters from the outbox and reports `moved_aside` as a fault.
        self._db, self.moved_aside, self.problem = open_or_replace(
            self.path, _SCHEMA, what="box store (counters and raw log)"
        )
        self._db.execute("PRAGMA synchronous=NORMAL")  # raw-log rows; the counters ask FULL
        # Events held while the disk is full live in a file allocated now, while there is room.
        self.held_path = self.path.with_name(self.path.name + ".held")
        self._journal: HeldJournal | None = None
        try:
            self._journal = HeldJournal(self.held_path)
        except HeldJournalError as exc:
            logger.error("%s", exc)

    def load_counters(self) -> BoxCounters | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM ledger WHERE id = 1").fetchone()
        return BoxCounters.from_dict(json.loads(row[0])) if row else None

    def save_counters(self, counters: BoxCounters) -> None:
        body = json.dumps(counters.to_dict(), separators=(",", ":"))
        with self._lock:
            self._db.execute("PRAGMA synchronous=FULL")
            try:
                self._db.execute("INSERT OR REPLACE INTO ledger (id, body) VALUES (1, ?)", (body,))
            finally:
                self._db.execute("PRAGMA synchronous=NORMAL")

    def append_inputs(self, items: Sequence[tuple[MachineInput, datetime]]) -> None:
        if not items:
            return
        rows = [(self._boot, utc_iso(wall), *encode_input(item)) for item, wall in items]
        with self._lock:
            try:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT INTO raw_log (boot, wall, kind, body) VALUES (?, ?, ?, ?)", rows
                )
                self._db.execute("COMMIT")
            except sqlite3.Error:
                # SQLite may have rolled back already (a full disk): never leave a transaction
                # open, or every later BEGIN fails too.
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._appended += len(rows)
            if self._appended >= TRIM_EVERY:
                self._appended = 0
                self._db.execute(
                    "DELETE FROM raw_log WHERE id <= (SELECT max(id) FROM raw_log) - ?",
                    (self._max_rows,),
                )

    def save_held(self, events: Sequence[HeldEvent]) -> None:
        """Keep exactly `events` as held, in the pre-allocated journal (`HeldJournal`): no new
        disk block is needed, so this works on the full disk that made them held.

        Raises:
            OSError: no journal (it could not be allocated) or it cannot take them.
        """
        with self._lock:
            if self._journal is None:
                # Not made at start (a disk full before it ever existed): tried again at each
                # save, so it exists from the first save with room (the one clearing the held
                # events once storage returns, at the latest).
                self._journal = HeldJournal(self.held_path)
                logger.warning("%s allocated: held events survive a restart now", self.held_path)
            self._journal.save(events)

    def load_held(self) -> list[HeldEvent]:
        """The events held before the last stop, oldest first (those of a version that kept
        them in the database first, moved into the journal)."""
        with self._lock:
            journal = self._journal.load() if self._journal is not None else []
            earlier = self._legacy_held()
            if earlier and self._journal is not None:
                try:
                    self._journal.save([*earlier, *journal])
                    self._db.execute("DELETE FROM held")
                except (OSError, sqlite3.Error) as exc:
                    logger.warning("held events of the database stay there for now (%s)", exc)
            return [*earlier, *journal]

    def _legacy_held(self) -> list[HeldEvent]:
        rows = self._db.execute("SELECT type, payload, wall FROM held ORDER BY id").fetchall()
        held: list[HeldEvent] = []
        for type_name, payload, wall in rows:
            try:
                moment = datetime.fromisoformat(wall)
                held.append(
                    HeldEvent(type_name, json.loads(payload), moment, legacy_event_id(moment))
                )
            except ValueError:
                continue  # a damaged row: the counters still have the count
        return held

    def recent_inputs(self, limit: int) -> list[tuple[str, MachineInput, str]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT boot, kind, body, wall FROM raw_log ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [(boot, decode_input(kind, body), wall) for boot, kind, body, wall in reversed(rows)]

    def close(self) -> None:
        with self._lock:
            self._db.close()
            if self._journal is not None:
                self._journal.close()
