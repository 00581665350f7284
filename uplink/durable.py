"""Opening the SQLite files that hold records which must survive a power cut."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from uplink.errors import StorageError

logger = logging.getLogger(__name__)

# Primary SQLite result codes that mean "this file is not a database we can use".
_UNUSABLE = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}


def open_durable(
    path: str | Path, schema: str, *, busy_timeout_ms: int = 10_000
) -> sqlite3.Connection:
    """Open (creating folders and tables) a SQLite file in WAL mode with `synchronous=FULL`,
    so a commit is on disk when it returns: the rule for outboxes, ledgers and stores.

    The connection is in autocommit mode (`isolation_level=None`: transactions are explicit)
    and may be used from several threads; callers serialise access with their own lock.

    Raises:
        sqlite3.DatabaseError: the file is not a usable database (see `open_or_replace`).
        StorageError: it cannot be opened for another reason (a directory, no permission,
            a missing folder that cannot be made); the message names the file.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"{path}: cannot create its folder ({exc.strerror}); check the path in the config"
        ) from exc
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StorageError(_cannot_open(path, exc)) from exc
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        db.executescript(schema)
    except sqlite3.DatabaseError as exc:
        db.close()
        if (exc.sqlite_errorcode & 0xFF) in _UNUSABLE:
            raise
        raise StorageError(_cannot_open(path, exc)) from exc
    return db


def open_store(path: str | Path, schema: str, *, what: str) -> sqlite3.Connection:
    """`open_durable` for stores that are never replaced by themselves (the back office's):
    a file that is not a usable database is refused in one line instead.

    Raises:
        StorageError: the file cannot be opened or is not a usable database.
    """
    try:
        return open_durable(path, schema)
    except sqlite3.DatabaseError as exc:
        raise StorageError(
            f"{path}: not a usable database ({exc}); check the path in the config, or restore "
            f"the {what} from a backup (move this file aside to start an empty one)"
        ) from exc


def _cannot_open(path: Path, exc: sqlite3.Error) -> str:
    kind = (
        "a folder" if path.is_dir() else "a device" if path.exists() and not path.is_file() else ""
    )
    what = f"it is {kind}, not a file" if kind else str(exc)
    return (
        f"{path}: cannot open ({what}); check the path in the config, the data partition and "
        "the file's owner"
    )


def open_or_replace(
    path: Path, schema: str, now: datetime | None = None, *, what: str
) -> tuple[sqlite3.Connection, Path | None, str | None]:
    """`open_durable`, but a file that is not a usable database (corrupt, or truncated to 0
    bytes) is moved aside, loudly, and a new one started: the device keeps serving.

    Returns:
        (connection, where the unusable file went or None, what was wrong with it or None)

    Raises:
        StorageError: the file cannot be opened at all, or no new one can be started.
    """
    db, problem = _open_checked(path, schema)
    if problem is None:
        assert db is not None  # noqa: S101 - a connection or a problem
        return db, None, None
    # The time only names the moved file, so the wall clock may do when none is given.
    try:
        moved = _move_aside(path, now or datetime.now(UTC))
    except OSError as exc:
        raise StorageError(
            f"{path}: {problem}, and it cannot be moved aside ({exc.strerror or exc}); check the "
            f"path in the config: the {what} needs a file of its own on the data partition"
        ) from exc
    logger.critical(
        "%s %s was %s: moved aside to %s and a new one started; recover what it held from "
        "that file",
        what,
        path,
        problem,
        moved,
    )
    db, second = _open_checked(path, schema)
    if second is not None or db is None:
        raise StorageError(f"{path}: cannot start a new {what}: {second}")
    return db, moved, problem


def _open_checked(path: Path, schema: str) -> tuple[sqlite3.Connection | None, str | None]:
    """Open `path`, or say why it is not a usable database (corrupt, truncated).

    Raises:
        StorageError: it cannot be opened for another reason (a directory, permissions).
    """
    wal = path.with_name(path.name + "-wal")
    if (
        path.is_file()
        and path.stat().st_size == 0
        and not (wal.is_file() and wal.stat().st_size > 0)
    ):
        # SQLite would take an empty file for a new database: pending events and the sequence
        # numbering would vanish without a word.
        return None, "truncated to 0 bytes"
    try:
        db = open_durable(path, schema)
    except sqlite3.DatabaseError as exc:
        if (exc.sqlite_errorcode & 0xFF) in _UNUSABLE:
            return None, f"not a usable database ({exc})"
        raise StorageError(_cannot_open(path, exc)) from exc
    try:
        verdict = db.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        db.close()
        if (exc.sqlite_errorcode & 0xFF) in _UNUSABLE:
            return None, f"not a usable database ({exc})"
        raise StorageError(_cannot_open(path, exc)) from exc
    if verdict != "ok":
        db.close()
        return None, f"corrupt (integrity check: {verdict})"
    return db, None


def _move_aside(path: Path, now: datetime) -> Path:
    """Rename `path` (with its WAL and shared-memory files) to `<name>.unusable-<UTC time>`."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.unusable-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.unusable-{stamp}-{n}")
    for suffix in ("", "-wal", "-shm"):
        part = path.with_name(path.name + suffix)
        if part.exists():
            part.rename(target.with_name(target.name + suffix))
    return target
