"""Collection credentials: salted PIN and badge hashes, and what a keypad or scanner line means."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

HASH_SCHEME = "pbkdf2_sha256"
DEFAULT_ITERATIONS = 200_000
BADGE_PREFIX = "LAPAK-BADGE:"
_COUNT = re.compile(r"^\*(\d{1,5})#?$")
_PIN = re.compile(r"^\d{4,12}$")


def hash_secret(
    secret: str, *, iterations: int = DEFAULT_ITERATIONS, salt: bytes | None = None
) -> str:
    """A PBKDF2 hash for the config file: ``pbkdf2_sha256$<iterations>$<salt>$<hash>``."""
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, iterations)
    return "$".join((HASH_SCHEME, str(iterations), _b64(salt), _b64(digest)))


def check_hash_format(value: str) -> str:
    """Return `value` if it is a hash made by `hash_secret`, else raise ValueError saying how."""
    parts = value.split("$")
    ok = len(parts) == 4 and parts[0] == HASH_SCHEME and parts[1].isdigit()
    if ok:
        try:
            base64.b64decode(parts[2], validate=True)
            base64.b64decode(parts[3], validate=True)
        except ValueError:
            ok = False
    if not ok:
        raise ValueError(
            "not a secret hash; make one with `dropbox-agent hash-secret` "
            f"(format {HASH_SCHEME}$iterations$salt$hash)"
        )
    return value


def verify_secret(secret: str, hashed: str) -> bool:
    """True when `secret` matches `hashed` (constant-time comparison)."""
    scheme, iterations, salt, digest = hashed.split("$")
    if scheme != HASH_SCHEME:
        return False
    actual = hashlib.pbkdf2_hmac("sha256", secret.encode(), base64.b64decode(salt), int(iterations))
    return hmac.compare_digest(actual, base64.b64decode(digest))


@dataclass(frozen=True)
class Officer:
    officer_id: str
    pin_hash: str | None = None
    badge_hash: str | None = None


def find_officer(
    officers: Iterable[Officer], method: Literal["pin", "badge"], secret: str
) -> str | None:
    """The id of the officer whose PIN (or badge code) is `secret`, or None."""
    for officer in officers:
        hashed = officer.pin_hash if method == "pin" else officer.badge_hash
        if hashed is not None and verify_secret(secret, hashed):
            return officer.officer_id
    return None


@dataclass(frozen=True)
class ParsedLine:
    """What one line from the box's keypad or code scanner is."""

    kind: Literal["pin", "badge", "count", "booking", "unknown"]
    value: str


def parse_line(line: str, booking_pattern: re.Pattern[str]) -> ParsedLine:
    """Classify a keypad/scanner line.

    ``*12#`` (star, digits, optional hash) is a collection count; 4-12 digits are a PIN; a
    scanned ``LAPAK-BADGE:...`` is an officer badge; a code matching `booking_pattern` is a booking.
    """
    line = line.strip()
    if match := _COUNT.match(line):
        return ParsedLine("count", match.group(1))
    if _PIN.match(line):
        return ParsedLine("pin", line)
    if line.startswith(BADGE_PREFIX):
        return ParsedLine("badge", line)
    if booking_pattern.match(line):
        return ParsedLine("booking", line)
    return ParsedLine("unknown", "")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
