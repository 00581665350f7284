"""The booking token: "LA1:" + base45(compact binary claims + Ed25519 signature).

Layout of the decoded bytes (big-endian; see docs/booking-tokens.md for the reasoning)::

    0   1   format version (1)
    1   4   key id: first 4 bytes of SHA-256 of the raw 32-byte Ed25519 public key
    5   4   issued at, Unix seconds
    9   4   expires at, Unix seconds
    13  4   slot start, Unix minutes
    17  2   slot length, minutes
    19  1   branch UTC offset, signed quarter hours (WIB 28, WITA 32, WIT 36)
    20  1   service index << 4 | channel index
    21  1   party size
    22  1+n booking id (ASCII [0-9A-Z], 1-16)
    ..  1+n branch id (ASCII [a-z0-9-], 1-40)
    ..  1+n masked name (UTF-8, 0-48 bytes, no control characters)
    ..  64  Ed25519 signature over DOMAIN + every byte before it

The signature is the last 64 bytes and the key id sits at a fixed offset, so a verifier checks the
signature before it parses a single claim.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from uplink.booking import base45
from uplink.booking.model import CHANNELS, SERVICES, Booking
from uplink.errors import UplinkError

PREFIX = "LA1:"
VERSION = 1
DOMAIN = b"LAPAK-ASIK-BOOKING\x00"
KID_LENGTH = 4
SIGNATURE_LENGTH = 64
MAX_TOKEN_CHARS = 400
"""Longest text even looked at; the longest valid token is 298 characters."""

_FIXED = struct.Struct(">B4sIIIHbBB")
_LAST_SECOND = 0xFFFFFFFF  # issued_at and expires_at are unsigned 32-bit Unix seconds
_MIN_LENGTH = _FIXED.size + 3 + 1 + SIGNATURE_LENGTH
_BOOKING_ID = re.compile(r"[0-9A-Z]{1,16}")
_BRANCH = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")
_MAX_NAME_BYTES = 48
_SCANNER_NOISE = "\r\n\t\x00"


class TokenError(UplinkError, ValueError):
    """A token could not be read; `reason` is the verdict reason code."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        super().__init__(detail)


@dataclass(frozen=True)
class SignedToken:
    """A token split into its parts, nothing interpreted yet but the version and key id."""

    kid: bytes
    signed: bytes
    signature: bytes

    def message(self) -> bytes:
        """The exact bytes the signature covers."""
        return DOMAIN + self.signed


@dataclass(frozen=True)
class Claims:
    """Everything a token says, once its signature is known good."""

    kid: bytes
    issued_at: datetime
    expires_at: datetime
    booking: Booking


def split(text: str) -> SignedToken:
    """Check the prefix, size and encoding, and split off the key id and signature.

    Raises:
        TokenError: reason "empty", "oversized", "wrong_prefix", "bad_encoding" or
            "unsupported_version".
    """
    text = text.strip(_SCANNER_NOISE)
    if not text:
        raise TokenError("empty", "no text was read")
    if len(text) > MAX_TOKEN_CHARS:
        raise TokenError("oversized", f"{len(text)} characters; a token has at most 298")
    if not text.startswith(PREFIX):
        raise TokenError("wrong_prefix", f"the text does not start with {PREFIX!r}")
    try:
        raw = base45.decode(text[len(PREFIX) :])
    except base45.Base45Error as exc:
        raise TokenError("bad_encoding", str(exc)) from None
    if len(raw) < _MIN_LENGTH:
        raise TokenError("bad_encoding", f"{len(raw)} bytes is too short for a token")
    if raw[0] != VERSION:
        raise TokenError("unsupported_version", f"token format version {raw[0]} is not known")
    return SignedToken(
        kid=raw[1 : 1 + KID_LENGTH],
        signed=raw[:-SIGNATURE_LENGTH],
        signature=raw[-SIGNATURE_LENGTH:],
    )


def parse_claims(signed: bytes) -> Claims:
    """Read the claims from signed bytes; call only after the signature verified.

    Raises:
        TokenError: reason "bad_content" when a signed field is out of range (a faulty issuer).
    """
    try:
        _version, kid, iat, exp, start_min, length_min, offset_q, kinds, party = _FIXED.unpack_from(
            signed
        )
        pos = _FIXED.size
        booking_id, pos = _text(signed, pos, "booking id")
        branch, pos = _text(signed, pos, "branch")
        name, pos = _text(signed, pos, "name")
    except (struct.error, IndexError, UnicodeDecodeError) as exc:
        raise TokenError("bad_content", f"the signed claims are malformed: {exc}") from None
    problems = []
    if pos != len(signed):
        problems.append(f"{len(signed) - pos} stray bytes after the claims")
    if not _BOOKING_ID.fullmatch(booking_id):
        problems.append("booking id is not 1-16 of [0-9A-Z]")
    if not _BRANCH.fullmatch(branch):
        problems.append("branch id is not [a-z0-9-]")
    if len(name.encode()) > _MAX_NAME_BYTES or not name.isprintable():
        problems.append("masked name is too long or has control characters")
    if kinds >> 4 >= len(SERVICES) or kinds & 0x0F >= len(CHANNELS):
        problems.append(f"service/channel byte {kinds:#04x} is unknown")
    if not 1 <= party or length_min == 0 or abs(offset_q) > 14 * 4 or exp <= iat:
        problems.append("party size, slot length, UTC offset or validity is out of range")
    if problems:
        raise TokenError("bad_content", "; ".join(problems))
    zone = timezone(timedelta(minutes=15 * offset_q))
    slot_start = datetime.fromtimestamp(start_min * 60, UTC).astimezone(zone)
    booking = Booking(
        booking_id=booking_id,
        branch=branch,
        service=SERVICES[kinds >> 4],
        channel=CHANNELS[kinds & 0x0F],
        party_size=party,
        slot_start=slot_start,
        slot_end=slot_start + timedelta(minutes=length_min),
        masked_name=name,
    )
    return Claims(
        kid=kid,
        issued_at=datetime.fromtimestamp(iat, UTC),
        expires_at=datetime.fromtimestamp(exp, UTC),
        booking=booking,
    )


def encode(
    booking: Booking,
    *,
    kid: bytes,
    issued_at: datetime,
    expires_at: datetime,
    sign: Callable[[bytes], bytes],
) -> str:
    """Build a token. `sign` signs the message bytes (Ed25519, 64-byte signature).

    Raises:
        ValueError: a field does not fit the format (the message says which).
    """
    if len(kid) != KID_LENGTH:
        raise ValueError(f"key id must be {KID_LENGTH} bytes")
    start = booking.slot_start
    offset = start.utcoffset()
    if offset is None:
        raise ValueError("slot_start must be timezone-aware")
    offset_q, rest = divmod(int(offset.total_seconds()), 900)
    length_min, rest_len = divmod(int((booking.slot_end - start).total_seconds()), 60)
    if rest or rest_len or start.second or start.microsecond:
        raise ValueError("slot times and UTC offset must be whole minutes (offset: quarter hours)")
    if not 1 <= length_min <= 0xFFFF:
        raise ValueError("slot_end must be after slot_start, within 45 days")
    if not 1 <= booking.party_size <= 255:
        raise ValueError("party_size must be 1-255")
    if not _BOOKING_ID.fullmatch(booking.booking_id) or not _BRANCH.fullmatch(booking.branch):
        raise ValueError("booking_id must be [0-9A-Z]{1,16}; branch [a-z0-9-]{1,40}")
    name = booking.masked_name.encode()
    if len(name) > _MAX_NAME_BYTES or not booking.masked_name.isprintable():
        raise ValueError(f"masked_name must be printable and at most {_MAX_NAME_BYTES} bytes")
    kinds = SERVICES.index(booking.service) << 4 | CHANNELS.index(booking.channel)
    if not all(0 <= int(t.timestamp()) <= _LAST_SECOND for t in (issued_at, expires_at, start)):
        # struct.error ("'I' format requires ...") reached the officer as an unexpected error.
        raise ValueError(
            f"times from 1970 to {datetime.fromtimestamp(_LAST_SECOND, UTC):%Y-%m-%d} fit in a "
            "token (whole seconds in 32 bits); pick a date in them"
        )
    signed = _FIXED.pack(
        VERSION,
        kid,
        int(issued_at.timestamp()),
        int(expires_at.timestamp()),
        int(start.timestamp()) // 60,
        length_min,
        offset_q,
        kinds,
        booking.party_size,
    )
    for part in (booking.booking_id.encode(), booking.branch.encode(), name):
        signed += bytes([len(part)]) + part
    signature = sign(DOMAIN + signed)
    if len(signature) != SIGNATURE_LENGTH:
        raise ValueError("the signer must return a 64-byte Ed25519 signature")
    return PREFIX + base45.encode(signed + signature)


def _text(data: bytes, pos: int, what: str) -> tuple[str, int]:
    length = data[pos]
    end = pos + 1 + length
    if end > len(data):
        raise IndexError(f"{what} runs past the end")
    return data[pos + 1 : end].decode("utf-8"), end
