"""Opening the SQLite files that hold records which must survive a power cut."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_durable(
    path: str | Path, schema: str, *, busy_timeout_ms: int = 10_000
) -> sqlite3.Connection:
    """Open (creating folders and tables) a SQLite file in WAL mode with `synchronous=FULL`,
    so a commit is on disk when it returns: the rule for outboxes, ledgers and stores.

    The connection is in autocommit mode (`isolation_level=None`: transactions are explicit)
    and may be used from several threads; callers serialise access with their own lock.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    db.executescript(schema)
    return db
