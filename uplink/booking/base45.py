"""Base45 (RFC 9285): bytes as the 45 characters a QR code stores in alphanumeric mode."""

from __future__ import annotations

from uplink.errors import UplinkError

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUES = {char: index for index, char in enumerate(ALPHABET)}


class Base45Error(UplinkError, ValueError):
    """The text is not valid base45 (unknown character, bad length or out-of-range group)."""


def encode(data: bytes) -> str:
    """Encode bytes as base45: each pair of bytes becomes three characters, a last byte two."""
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (ALPHABET[c], ALPHABET[d])
    return "".join(out)


def decode(text: str) -> bytes:
    """Decode base45 strictly.

    Raises:
        Base45Error: a character outside the alphabet, a length of 3n+1, or a group whose value
            does not fit its bytes (RFC 9285 section 4.2 requires rejecting those).
    """
    if len(text) % 3 == 1:
        raise Base45Error(f"base45 text of length {len(text)} cannot be decoded (3n+1)")
    try:
        values = [_VALUES[char] for char in text]
    except KeyError as exc:
        raise Base45Error(f"character {exc.args[0]!r} is not in the base45 alphabet") from None
    out = bytearray()
    for i in range(0, len(values), 3):
        group = values[i : i + 3]
        if len(group) == 3:
            n = group[0] + group[1] * 45 + group[2] * 45 * 45
            if n > 0xFFFF:
                raise Base45Error(f"base45 group at {i} exceeds two bytes")
            out += n.to_bytes(2, "big")
        else:
            n = group[0] + group[1] * 45
            if n > 0xFF:
                raise Base45Error(f"base45 group at {i} exceeds one byte")
            out.append(n)
    return bytes(out)
