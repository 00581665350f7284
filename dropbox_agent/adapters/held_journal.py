"""Events held while storage is full, in a file that needs no new disk block once it exists.

When the data partition is full the outbox cannot take a deposit's event; the agent holds it and
stores it once there is room (no slip meanwhile). The held events must survive a restart on that
same full disk, so they cannot go into SQLite (which needs new pages, a WAL, a journal). Instead:

- at start the journal file is allocated whole (`posix_fallocate`, `SLOTS` x `SLOT_BYTES`) while
  there is room, and kept from then on;
- each held event is written in place into its own fixed-size slot and fsynced before the agent
  gives any feedback: rewriting allocated blocks needs no free space;
- a slot is cleared (zeroed in place, fsynced) once its event is in the outbox.

A slot holds ``magic | sequence | length | crc32 | JSON``; a torn or zeroed slot fails its
check and is skipped, and the sequence numbers give the order back after a restart. The JSON
holds the event id fixed when the event was held: a crash between storing a held event in the
outbox and clearing its slot stores it again at the next start under that same id, which the
outbox (while it is pending) and the back office (always) keep once. Slots written before ids
were kept (magic ``LAH1``) are given one when read, written back in place.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import struct
import zlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from dropbox_agent.errors import DropboxError
from dropbox_agent.ports import HeldEvent
from uplink.ids import EVENT_ID_PATTERN, new_event_id

logger = logging.getLogger(__name__)

SLOT_BYTES = 512
SLOTS = 1024  # 512 KiB: days of deposits at a busy branch while the disk stays full
_MAGIC = b"LAH2"  # with the event id
_MAGIC_WITHOUT_ID = b"LAH1"  # written before event ids were kept: given one when read
_HEADER = struct.Struct(">4sQII")  # magic, sequence, JSON length, crc32 of the JSON
_EMPTY = bytes(SLOT_BYTES)


class HeldJournalError(DropboxError, OSError):
    """The journal cannot be made (no room at its first start) or an event does not fit."""


class HeldJournal:
    """A ring of `SLOTS` fixed-size slots in one pre-allocated file.

    Not thread-safe: the agent's loop thread is its only user.

    Raises:
        HeldJournalError: the file cannot be allocated (the disk is full before it ever existed,
            or the path is unusable).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        size = SLOT_BYTES * SLOTS
        try:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise HeldJournalError(f"{path}: cannot open ({exc.strerror})") from exc
        try:
            if os.fstat(self._fd).st_size < size or not _allocated(self._fd, size):
                _allocate(self._fd, size)
                os.fsync(self._fd)
                _fsync_dir(path.parent)
        except OSError as exc:
            os.close(self._fd)
            raise HeldJournalError(
                f"{path}: cannot allocate {size // 1024} KiB ({exc.strerror}); events held "
                "while the disk is full stay in memory only until it has room"
            ) from exc
        # (sequence, slot, event) of every event written and not yet cleared, oldest first.
        self._held: list[tuple[int, int, HeldEvent]] = self._read()
        self._next = self._held[-1][0] + 1 if self._held else 1
        try:
            if self._given_ids:  # in place, before any of them can be stored
                for seq, slot, event in self._held:
                    if slot in self._given_ids:
                        self._write(slot, _record(seq, event))
                os.fsync(self._fd)
        except OSError as exc:
            os.close(self._fd)
            raise HeldJournalError(f"{path}: cannot write ({exc.strerror})") from exc

    def load(self) -> list[HeldEvent]:
        """The events held before the last stop, oldest first."""
        return [event for _, _, event in self._held]

    def save(self, events: Sequence[HeldEvent]) -> None:
        """Make the journal hold exactly `events`: they are the ones it holds with some of the
        oldest stored meanwhile (cleared) and new ones held after them (written).

        Raises:
            HeldJournalError: the journal is full or an event is too large for a slot.
            OSError: the write or fsync failed.
        """
        events = list(events)
        current = [event for _, _, event in self._held]
        stored = next(
            (k for k in range(len(current) + 1) if current[k:] == events[: len(current) - k]),
            len(current),
        )
        for seq, slot, _ in self._held[:stored]:
            self._write(slot, _EMPTY)
            logger.debug("held event %d cleared", seq)
        self._held = self._held[stored:]
        for event in events[len(self._held) :]:
            self._hold(event)
        os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)

    def _hold(self, event: HeldEvent) -> None:
        if len(self._held) >= SLOTS:
            raise HeldJournalError(f"{self.path}: all {SLOTS} slots hold events")
        seq, slot = self._next, self._next % SLOTS
        self._write(slot, _record(seq, event))
        self._held.append((seq, slot, event))
        self._next += 1

    def _write(self, slot: int, data: bytes) -> None:
        written = os.pwrite(self._fd, data, slot * SLOT_BYTES)
        if written != SLOT_BYTES:
            raise OSError(f"{self.path}: short write ({written} of {SLOT_BYTES} bytes)")

    def _read(self) -> list[tuple[int, int, HeldEvent]]:
        found: list[tuple[int, int, HeldEvent]] = []
        self._given_ids: set[int] = set()  # slots of events read without an id
        for slot in range(SLOTS):
            raw = os.pread(self._fd, SLOT_BYTES, slot * SLOT_BYTES)
            if len(raw) < _HEADER.size or raw[:4] not in (_MAGIC, _MAGIC_WITHOUT_ID):
                continue
            _, seq, length, crc = _HEADER.unpack_from(raw)
            body = raw[_HEADER.size : _HEADER.size + length]
            if len(body) != length or zlib.crc32(body) != crc:
                logger.warning("held event in slot %d is torn (a stop mid-write): skipped", slot)
                continue
            try:
                data = json.loads(body)
                wall = datetime.fromisoformat(data["wall"])
                event_id = str(data.get("event_id") or legacy_event_id(wall))
                event = HeldEvent(str(data["type"]), dict(data["payload"]), wall, event_id)
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
            if not EVENT_ID_PATTERN.fullmatch(event.event_id):
                continue
            if "event_id" not in data:
                self._given_ids.add(slot)
            found.append((seq, slot, event))
        found.sort(key=lambda item: item[0])
        return found


def _record(seq: int, event: HeldEvent) -> bytes:
    """The slot's bytes for `event` held as number `seq`.

    Raises:
        HeldJournalError: the event does not fit a slot.
    """
    body = json.dumps(
        {
            "type": event.type,
            "payload": event.payload,
            "wall": event.wall.isoformat(),
            "event_id": event.event_id,
        },
        separators=(",", ":"),
    ).encode()
    if _HEADER.size + len(body) > SLOT_BYTES:
        raise HeldJournalError(f"a held {event.type} event of {len(body)} bytes fits no slot")
    record = _HEADER.pack(_MAGIC, seq, len(body), zlib.crc32(body)) + body
    return record.ljust(SLOT_BYTES, b"\0")


def legacy_event_id(wall: datetime) -> str:
    """An id for a held event kept before ids were (its time in the id, as the outbox's)."""
    return new_event_id(_ms(wall))


def _ms(wall: datetime) -> int:
    return int(wall.timestamp() * 1000)


def _allocate(fd: int, size: int) -> None:
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
            raise
        # A file system without fallocate: zeros written are blocks allocated all the same.
        for offset in range(0, size, SLOT_BYTES):
            if not os.pread(fd, SLOT_BYTES, offset).strip(b"\0"):
                os.pwrite(fd, _EMPTY, offset)


def _allocated(fd: int, size: int) -> bool:
    """Whether the file's blocks are all there (a file extended by truncate would be sparse)."""
    return os.fstat(fd).st_blocks * 512 >= size


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
