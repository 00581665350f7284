"""Collection credentials: salted PIN and badge hashes, and what a keypad or scanner line means."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from configkit.hashed import check_hash_format, hash_secret, verify_secret

BADGE_PREFIX = "LAPAK-BADGE:"
_COUNT = re.compile(r"^\*(\d{1,5})#?$")
_PIN = re.compile(r"^\d{4,12}$")
__all__ = [
    "BADGE_PREFIX", "Officer", "ParsedLine", "check_hash_format", "find_officer", "hash_secret",
    "parse_line", "verify_secret",
]  # fmt: skip


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
