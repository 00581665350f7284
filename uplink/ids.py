"""Event ids: unique across the fleet without coordination, and sortable by creation time.

The layout is ULID's (48-bit millisecond time + 80 random bits, Crockford base32, 26 characters);
within one process ids made in the same millisecond still sort in creation order.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
EVENT_ID_PATTERN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")

_lock = threading.Lock()
_last = (0, 0)  # (ms, random) of the previous id, for monotonic ordering


def new_event_id(now_ms: int | None = None) -> str:
    """Return a new 26-character event id."""
    global _last
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    with _lock:
        last_ms, last_rand = _last
        if ms <= last_ms:
            ms, rand = last_ms, (last_rand + 1) & ((1 << 80) - 1)
        else:
            rand = int.from_bytes(os.urandom(10), "big")
        _last = (ms, rand)
    return _encode((ms << 80) | rand)


def derived_event_id(key: str, at_ms: int) -> str:
    """The one event id of the fact named by `key` (e.g. a check-in's id and the event type),
    created at `at_ms` (Unix milliseconds): the same arguments give the same id, so a device that
    records a fact again after a restart records the same event (stored once by id).

    Its 80 low bits are the first 80 of SHA-256(`key`): unique wherever `key` is (a random
    check-in id is).
    """
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:10], "big")
    return _encode((at_ms << 80) | digest)


def _encode(value: int) -> str:
    return "".join(_ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))


def event_id_time_ms(event_id: str) -> int:
    """The creation time encoded in an event id, in Unix milliseconds."""
    value = 0
    for char in event_id:
        value = (value << 5) | _ALPHABET.index(char)
    return value >> 80
