"""A real, small disk that tests can fill up and free again (a 3 MiB tmpfs; needs root)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

SMALL_DISK_MAX = 64 * 1024 * 1024


class SmallDisk:
    """A mounted tmpfs: `fill()` takes every free byte, `free()` gives them back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._filler = path / "filler"

    def fill(self) -> None:
        """Write a filler file until the disk says ENOSPC (only on a small disk: were the tmpfs
        gone, this would fill the machine's own disk and fail every test running beside it)."""
        disk = os.statvfs(self.path)
        size = disk.f_blocks * disk.f_frsize
        assert size <= SMALL_DISK_MAX, f"{self.path} is {size} bytes, not the small tmpfs"
        fd = os.open(self._filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            block = b"\0" * 4096
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, block)
            with contextlib.suppress(OSError):
                while True:  # the last partial block
                    os.write(fd, b"\0")
        finally:
            os.close(fd)

    def free(self) -> None:
        self._filler.unlink(missing_ok=True)


@contextlib.contextmanager
def small_disk(path: Path, size: str = "3m") -> Iterator[SmallDisk]:
    """Mount a tmpfs of `size` at `path` for the block; skips the test when not root."""
    if os.geteuid() != 0:
        pytest.skip("disk-full tests mount a tmpfs, which needs root (CI runs as root)")
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield SmallDisk(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)
