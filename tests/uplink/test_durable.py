"""Durable SQLite files on a real full disk: a file made before the disk filled opens, is read,
refuses writes as full and takes them again once there is room, with no reopening."""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.diskfull import small_disk
from uplink.durable import open_durable, open_or_replace
from uplink.errors import StorageError

SCHEMA = "CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY, body TEXT NOT NULL);"


def put(db: sqlite3.Connection, *bodies: str) -> None:
    for body in bodies:
        db.execute("INSERT INTO item (body) VALUES (?)", (body,))


def bodies(db: sqlite3.Connection) -> list[str]:
    return [row[0] for row in db.execute("SELECT body FROM item ORDER BY id")]


def test_a_cleanly_closed_file_opens_on_a_full_disk_and_writes_again_once_there_is_room(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        # GIVEN a file closed cleanly (its WAL and shared-memory files gone), then a full disk
        path = disk.path / "outbox.db"
        db = open_durable(path, SCHEMA)
        put(db, "a", "b")
        db.close()
        assert not path.with_name("outbox.db-shm").exists()
        disk.fill()

        # WHEN it is opened THEN what it holds is read, and the full disk is said in one line
        with caplog.at_level(logging.WARNING, logger="uplink.durable"):
            db = open_durable(path, SCHEMA)
        assert bodies(db) == ["a", "b"]
        lines = [r.getMessage() for r in caplog.records if r.name == "uplink.durable"]
        assert len(lines) == 1 and "full data partition" in lines[0] and str(path) in lines[0]

        # a write fails as a full disk does (the callers hold it and retry) ...
        with pytest.raises(sqlite3.OperationalError) as full:
            put(db, "c")
        assert full.value.sqlite_errorcode & 0xFF == sqlite3.SQLITE_FULL
        assert bodies(db) == ["a", "b"]

        # ... and once there is room it succeeds on the same connection
        disk.free()
        put(db, "c")
        db.execute("DELETE FROM item WHERE body = 'a'")
        assert bodies(db) == ["b", "c"]
        db.close()
        # and the next open is an ordinary one again
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="uplink.durable"):
            again = open_durable(path, SCHEMA)
        assert bodies(again) == ["b", "c"]
        assert not [r for r in caplog.records if r.name == "uplink.durable"]
        again.close()


def test_a_file_left_by_a_killed_process_keeps_its_last_commits_on_a_full_disk(
    tmp_path: Path,
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        # GIVEN the files a killed process leaves: commits still in the WAL, not checkpointed
        live = disk.path / "live.db"
        db = open_durable(live, SCHEMA)
        put(db, "a", "b", "c")
        path = disk.path / "killed.db"
        for suffix in ("", "-wal"):
            shutil.copyfile(f"{live}{suffix}", f"{path}{suffix}")
        db.close()
        assert path.with_name("killed.db-wal").stat().st_size > 0
        disk.fill()

        # WHEN it is opened on the full disk THEN the commits in its WAL are there
        db, moved, problem = open_or_replace(path, SCHEMA, what="outbox")
        assert (moved, problem) == (None, None)
        assert bodies(db) == ["a", "b", "c"]
        disk.free()
        put(db, "d")
        assert bodies(db) == ["a", "b", "c", "d"]
        db.close()


def test_a_new_file_on_a_full_disk_is_one_line_saying_so(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        disk.fill()
        with pytest.raises(StorageError) as refused:
            open_or_replace(disk.path / "new.db", SCHEMA, what="outbox")
        line = str(refused.value)
        assert "\n" not in line
        assert "data partition is full" in line and "free space" in line
        # nothing was moved aside: an empty new file is not an unusable one
        assert not list(disk.path.glob("new.db.unusable-*"))
        disk.free()
        db, moved, _ = open_or_replace(disk.path / "new.db", SCHEMA, what="outbox")
        assert moved is None
        put(db, "a")
        assert bodies(db) == ["a"]
        db.close()


def test_other_open_failures_are_not_taken_for_a_full_disk(tmp_path: Path) -> None:
    (tmp_path / "folder.db").mkdir()
    with pytest.raises(StorageError, match="it is a folder") as refused:
        open_durable(tmp_path / "folder.db", SCHEMA)
    assert "full" not in str(refused.value)
