"""Booking codes a person can type: Crockford base32 with a Luhn mod 32 check symbol."""

from __future__ import annotations

import secrets

from uplink.errors import UplinkError

# Crockford's alphabet: no I, L, O or U, so a code read aloud or typed is hard to get wrong.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUES = {char: index for index, char in enumerate(ALPHABET)}
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
BODY_LENGTH = 8
CODE_LENGTH = BODY_LENGTH + 1


class BookingCodeError(UplinkError, ValueError):
    """A typed booking code has the wrong length, characters, or check symbol."""


def check_symbol(body: str) -> str:
    """Luhn mod N check symbol over `body` (catches every single typo and most swaps)."""
    n = len(ALPHABET)
    factor = 2
    total = 0
    for char in reversed(body):
        addend = factor * _VALUES[char]
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return ALPHABET[(n - total % n) % n]


def new_code() -> str:
    """A fresh random booking code (40 random bits plus the check symbol), e.g. "7K3QX9M2A"."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + check_symbol(body)


def normalize(typed: str) -> str:
    """Canonical form of a typed code: upper case, no spaces or dashes, O→0 and I/L→1.

    Raises:
        BookingCodeError: not nine symbols of the alphabet, or the check symbol does not match.
    """
    code = "".join(typed.split()).replace("-", "").upper().translate(_ALIASES)
    if len(code) != CODE_LENGTH:
        raise BookingCodeError(f"a booking code has {CODE_LENGTH} characters, got {len(code)}")
    bad = sorted({char for char in code if char not in _VALUES})
    if bad:
        raise BookingCodeError(f"characters {''.join(bad)!r} are not used in booking codes")
    if check_symbol(code[:-1]) != code[-1]:
        raise BookingCodeError("the check character does not match; a character was mistyped")
    return code


def display(code: str) -> str:
    """Group a code in threes for screens and slips: "7K3-QX9-M2A"."""
    return "-".join(code[i : i + 3] for i in range(0, len(code), 3))


def shown(reference: str) -> str:
    """How a reference is printed and shown: a booking code grouped in threes ("7K3-QX9-M2A",
    the same wherever it appears), anything else (an old-style booking id) as it is."""
    try:
        return display(normalize(reference))
    except BookingCodeError:
        return reference


def walkin_code(checkin_id: str) -> str:
    """A walk-in's tracking code, derived from its check-in id: the booking-code format (eight
    symbols and a check symbol), so a person can type it and the back office can derive it
    from the check-in event.

    Args:
        checkin_id: the check-in's id (hex; its first 40 bits make the code).

    Raises:
        ValueError: `checkin_id` does not start with 10 hex digits.
    """
    if len(checkin_id) < 10:
        raise ValueError(f"check-in id {checkin_id!r} is shorter than 10 hex digits")
    value = int(checkin_id[:10], 16)
    body = "".join(ALPHABET[(value >> shift) & 31] for shift in range(35, -1, -5))
    return body + check_symbol(body)
