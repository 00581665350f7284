"""Keypad and code-scanner lines from a character device (USB scanners in serial/CDC mode)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)


class DeviceLineSource:
    """Reads lines from `path` in a daemon thread and hands each to the sink.

    Re-opens the device after it disappears (scanner unplugged), every `retry_s` seconds.
    """

    def __init__(self, path: Path, *, retry_s: float = 5.0) -> None:
        self.path = path
        self._retry_s = retry_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, sink: Callable[[str], None]) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(sink,), name="dropbox-lines", daemon=True
        )
        self._thread.start()

    def _run(self, sink: Callable[[str], None]) -> None:
        while not self._stop.is_set():
            try:
                with open(self.path, encoding="ascii", errors="replace") as device:
                    for line in device:
                        if self._stop.is_set():
                            return
                        if line.strip():
                            sink(line)
            except OSError as exc:
                logger.warning(
                    "keypad/scanner at %s unavailable (%s); retrying in %.0f s",
                    self.path,
                    exc.strerror,
                    self._retry_s,
                )
            self._stop.wait(self._retry_s)

    def close(self) -> None:
        self._stop.set()
