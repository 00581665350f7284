"""The work folder: never empties a folder it did not make, one run at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from branchsim.workdir import LOCK, MARKER, WorkDir, WorkDirError


def test_a_new_folder_is_made_and_marked(tmp_path: Path) -> None:
    with WorkDir(tmp_path / "sim") as work:
        assert (work.path / MARKER).is_file()
        (work.path / "kiosk-1").mkdir()
        (work.path / "branch.log").write_text("x")
    # GIVEN a folder an earlier run made WHEN a new run takes it THEN it is emptied
    with WorkDir(tmp_path / "sim") as again:
        assert sorted(p.name for p in again.path.iterdir()) == sorted([MARKER, LOCK])


def test_a_folder_someone_else_filled_is_refused_unless_forced(tmp_path: Path) -> None:
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter-1.md").write_text("do not lose me")

    with pytest.raises(WorkDirError, match="--force"):
        WorkDir(mine).acquire()
    assert (mine / "chapter-1.md").read_text() == "do not lose me"
    assert not (mine / MARKER).exists()

    with WorkDir(mine, force=True) as work:
        assert not (work.path / "chapter-1.md").exists()


def test_an_empty_folder_is_fine_and_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with WorkDir(tmp_path / "empty") as work:
        assert (work.path / MARKER).exists()
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(WorkDirError, match="is a file"):
        WorkDir(tmp_path / "a-file", force=True).acquire()


def test_a_second_run_on_the_same_folder_is_refused_while_the_first_runs(tmp_path: Path) -> None:
    with WorkDir(tmp_path / "sim") as first:
        (first.path / "events.db").write_text("running")
        with pytest.raises(WorkDirError, match="in use by another branch simulation"):
            WorkDir(tmp_path / "sim", force=True).acquire()
        assert (first.path / "events.db").read_text() == "running"
    # Once the first has ended, the folder is free again.
    with WorkDir(tmp_path / "sim") as later:
        assert not (later.path / "events.db").exists()


def test_a_folder_that_cannot_be_made_is_one_line_naming_it() -> None:
    """It said only "[Errno 2] No such file or directory: '/proc/x/sim'"."""
    with pytest.raises(WorkDirError) as refused:
        WorkDir(Path("/proc/x/sim")).acquire()
    assert str(refused.value) == (
        "--dir /proc/x/sim cannot be made (No such file or directory); choose another --dir"
    )
