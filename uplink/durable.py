"""Opening the SQLite files that hold records which must survive a power cut.

A file opened on a full disk: SQLite's WAL mode keeps its index in a shared-memory file next to
the database (`<file>-shm`, 32 KiB), made again at every open after a clean stop, and a full disk
has no room for it. Such a file is opened in exclusive locking mode instead, which keeps that
index in the process's own memory: what the file holds can be read (pending events are sent), a
write fails as a full disk does (`SQLITE_FULL`, which the callers hold and retry) and succeeds
once there is room again, with no restart. Only this process may then open the file until it
stops; nothing else on a device does.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from uplink.errors import StorageError

logger = logging.getLogger(__name__)

# Primary SQLite result codes that mean "this file is not a database we can use".
_UNUSABLE = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
SHM_BYTES = 32 * 1024
"""What SQLite's shared-memory file takes at open (one 32 KiB region of the WAL index)."""


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
    existed = path.exists()
    try:
        return _connect(path, schema, busy_timeout_ms, exclusive=False)
    except sqlite3.DatabaseError as exc:
        if (exc.sqlite_errorcode & 0xFF) in _UNUSABLE:
            raise
        if not _short_of_room(exc, path):
            raise StorageError(_cannot_open(path, exc)) from exc
    try:
        db = _connect(path, schema, busy_timeout_ms, exclusive=True)
    except sqlite3.DatabaseError as exc:
        if (exc.sqlite_errorcode & 0xFF) in _UNUSABLE:
            raise
        if not existed:  # left empty, it would read as a truncated file at the next start
            _remove_empty(path)
        raise StorageError(
            f"{path}: cannot open: the data partition is full ({exc}); free space on it "
            "(the service starts again by itself and finds it)"
        ) from exc
    logger.warning(
        "%s opened on a full data partition: what it holds is read, new records wait for "
        "room (free space on the partition; no restart needed)",
        path,
    )
    return db


def _connect(
    path: Path, schema: str, busy_timeout_ms: int, *, exclusive: bool
) -> sqlite3.Connection:
    """Connect and set the file up (see `open_durable`); `exclusive` keeps the WAL's index in
    this process's memory (see the module docstring).

    Raises:
        sqlite3.DatabaseError: as SQLite raised it (the connection is closed).
        StorageError: SQLite cannot open the file at all.
    """
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StorageError(_cannot_open(path, exc)) from exc
    try:
        if exclusive:  # before anything reads the file: it never touches <file>-shm then
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        db.executescript(schema)
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


def _remove_empty(path: Path) -> None:
    """Remove the empty file (and its WAL files) that a failed first open left."""
    try:
        if path.stat().st_size > 0:
            return
        for suffix in ("-wal", "-shm", ""):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    except OSError:
        logger.warning("%s: cannot remove the empty file a failed open left", path, exc_info=True)


def _short_of_room(exc: sqlite3.DatabaseError, path: Path) -> bool:
    """Whether `exc`, met while opening `path`, comes from a full file system."""
    if (exc.sqlite_errorcode & 0xFF) == sqlite3.SQLITE_FULL:
        return True
    if (exc.sqlite_errorcode & 0xFF) != sqlite3.SQLITE_IOERR:
        return False
    # The shared-memory file's blocks are written at open; ENOSPC there is an I/O error.
    if exc.sqlite_errorname == "SQLITE_IOERR_SHMSIZE":
        return True
    try:
        room = os.statvfs(path.parent)
    except OSError:
        return False
    return room.f_bavail * room.f_frsize < SHM_BYTES


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
