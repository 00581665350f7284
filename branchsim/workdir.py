"""The simulation's work folder: made by us (a marker), emptied only then, one run at a time."""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
from pathlib import Path
from types import TracebackType

from branchsim.errors import BranchSimError

logger = logging.getLogger(__name__)

MARKER = ".lapak-branchsim"  # says "a branch simulation made this folder; it may be emptied"
LOCK = ".lapak-branchsim.lock"


class WorkDirError(BranchSimError, RuntimeError):
    """The folder cannot be used; the message says why and how to fix it."""


class WorkDir:
    """Takes a folder for one run: refuses a non-empty folder it did not create unless forced,
    refuses a folder another run holds (an advisory lock, released when the process ends, even
    by a crash), and empties what an earlier run left.

    Args:
        path: The folder (created when missing).
        force: Empty a non-empty folder even without the marker.
    """

    def __init__(self, path: Path, *, force: bool = False) -> None:
        self.path = path.resolve()
        self.force = force
        self._lock_fd: int | None = None

    def __enter__(self) -> WorkDir:
        self.acquire()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.release()

    def acquire(self) -> None:
        """Check, lock and empty the folder.

        Raises:
            WorkDirError: not ours and not empty (without `force`), not a folder, or in use.
        """
        path = self.path
        if path.exists() and not path.is_dir():
            raise WorkDirError(f"--dir {path} is a file, not a folder; choose another --dir")
        ours = (path / MARKER).exists()
        if path.exists() and not ours and any(path.iterdir()) and not self.force:
            raise WorkDirError(
                f"--dir {path} is not empty and was not made by a branch simulation; "
                "choose an empty or new folder, or add --force to empty it"
            )
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # it said only "[Errno 2] No such file or directory: '/proc/x'"
            raise WorkDirError(
                f"--dir {path} cannot be made ({exc.strerror}); choose another --dir"
            ) from None
        fd = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise WorkDirError(
                f"--dir {path} is in use by another branch simulation (pid {holder}); "
                "wait for it to end, stop it (Ctrl-C), or choose another --dir"
            ) from None
        self._lock_fd = fd
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        for child in path.iterdir():
            if child.name in (LOCK, MARKER):
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        (path / MARKER).write_text(
            "Made by a branch simulation (python -m branchsim); the next run empties it.\n",
            encoding="utf-8",
        )

    def release(self) -> None:
        """Unlock (the folder and its results stay)."""
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None
