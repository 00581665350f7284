"""Whether the wall clock can be trusted: NTP synchronisation as systemd reports it, plus a floor.

A Raspberry Pi has no clock battery. After a power cut without network it starts on
fake-hwclock's last saved time (hours or days behind) until NTP answers. Devices ask a
`SyncSource` before acting on dates: the real one asks `timedatectl` (systemd-timesyncd and
chrony both set NTPSynchronized), the simulated one is told what to say.
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

logger = logging.getLogger(__name__)

# No device clock that reads earlier than this (this software's build) can be right.
SANITY_FLOOR = datetime(2026, 11, 30, tzinfo=UTC)
TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")
CACHE_S = 30.0  # timedatectl is asked at most this often
TIMEOUT_S = 2.0

Runner = Callable[[list[str]], str]
"""Runs a command and returns its standard output (raises OSError or TimeoutExpired)."""


class SyncSource(Protocol):
    """Says whether the system clock is synchronised to a time server."""

    def ntp_synchronized(self) -> bool: ...


def _run(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=True)
    return done.stdout


class TimedatectlSync:
    """The real source: systemd-timesyncd's flag file, else `timedatectl show -p
    NTPSynchronized --value` (chrony too), asked at most every `CACHE_S` seconds."""

    def __init__(
        self,
        run: Runner = _run,
        *,
        flag: Path | None = TIMESYNC_FLAG,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._run = run
        self._flag = flag
        self._monotonic = monotonic
        self._answer = False
        self._asked_at: float | None = None

    def ntp_synchronized(self) -> bool:
        if self._flag is not None and self._flag.exists():
            return True
        now = self._monotonic()
        if self._asked_at is not None and now - self._asked_at < CACHE_S:
            return self._answer
        self._asked_at = now
        try:
            out = self._run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"])
        except (OSError, subprocess.SubprocessError) as exc:
            logger.debug("timedatectl not answering (%s): clock taken as not synchronised", exc)
            self._answer = False
        else:
            self._answer = out.strip() == "yes"
        return self._answer


class SimulatedSync:
    """A sync source that says what it is told (ships with the product, for simulations)."""

    def __init__(self, synced: bool = True) -> None:
        self.synced = synced

    def ntp_synchronized(self) -> bool:
        return self.synced


def clock_trusted(source: SyncSource, now: datetime, floor: datetime = SANITY_FLOOR) -> bool:
    """True when `source` says synchronised and `now` is not before the sanity floor."""
    return now >= floor and source.ntp_synchronized()
