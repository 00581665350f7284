"""Short lookup codes printed on deposit slips: 8 Crockford base32 characters, XXXX-XXXX."""

from __future__ import annotations

import os
from collections.abc import Callable

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def random_code(random_bytes: Callable[[int], bytes] = os.urandom) -> str:
    """A fresh code (40 random bits: collisions within one box are negligible)."""
    value = int.from_bytes(random_bytes(5), "big")
    chars = "".join(ALPHABET[(value >> shift) & 31] for shift in range(35, -1, -5))
    return f"{chars[:4]}-{chars[4:]}"
