"""Fixed test keys and helpers to build tokens and trust lists (for vectors and tests only)."""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.booking.ledger import CheckinRecord
from kiosk.booking.verifier import BookingVerifier, Rules
from uplink.booking import base45, token, trustlist
from uplink.booking.model import Booking
from uplink.booking.trustlist import TrustList
from uplink.clock import utc_iso

# The verdicts a kiosk gives only once a token's signature verified (the booking is shown).
SIGNED_REASONS = frozenset(
    {
        "ok",
        "key_not_valid",
        "not_yet_valid",
        "cancelled",
        "wrong_branch",
        "wrong_day",
        "already_checked_in",
        "expired",
        "too_early",
        "too_late",
    }
)
WIB = timezone(timedelta(hours=7))
WITA = timezone(timedelta(hours=8))
JAKARTA = ZoneInfo("Asia/Jakarta")


def fixed_key(label: str) -> Ed25519PrivateKey:
    """A deterministic Ed25519 key: the seed is SHA-256 of `label` (never use outside tests)."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(label.encode()).digest())


ROOT = fixed_key("lapak-asik test root")
KEY_CURRENT = fixed_key("lapak-asik test key current")
KEY_RETIRED = fixed_key("lapak-asik test key retired")
KEY_WITHDRAWN = fixed_key("lapak-asik test key withdrawn")
KEY_FUTURE = fixed_key("lapak-asik test key future")
KEY_UNKNOWN = fixed_key("lapak-asik test key not listed")
ANCHOR = base64.b64encode(trustlist.raw_public(ROOT.public_key())).decode()


def kid(key: Ed25519PrivateKey) -> bytes:
    """The token key id of a private key."""
    return trustlist.key_id(key.public_key())


def key_entry(
    key: Ed25519PrivateKey,
    valid_from: datetime,
    valid_until: datetime,
    withdrawn_at: datetime | None = None,
) -> dict[str, object]:
    """One trust-list key entry."""
    return {
        "kid": kid(key).hex(),
        "public_key": base64.b64encode(trustlist.raw_public(key.public_key())).decode(),
        "valid_from": utc_iso(valid_from),
        "valid_until": utc_iso(valid_until),
        "withdrawn_at": None if withdrawn_at is None else utc_iso(withdrawn_at),
    }


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def standard_trust_list(sequence: int = 1) -> bytes:
    """The vectors' trust list: current, retired, withdrawn and future keys (not the unknown)."""
    body = {
        "sequence": sequence,
        "issued_at": utc_iso(_utc(2020, 6, 1)),
        "keys": [
            key_entry(KEY_CURRENT, _utc(2020, 1, 1), _utc(2021, 1, 1)),
            key_entry(KEY_RETIRED, _utc(2019, 1, 1), _utc(2020, 1, 1)),
            key_entry(KEY_WITHDRAWN, _utc(2020, 1, 1), _utc(2021, 1, 1), _utc(2020, 6, 10)),
            key_entry(KEY_FUTURE, _utc(2021, 1, 1), _utc(2022, 1, 1)),
        ],
    }
    return trustlist.sign(body, ROOT)


def standard_booking(**changes: object) -> Booking:
    """JHT at jakarta-salemba, 15 June 2020 09:00-10:00 WIB, one person."""
    fields: dict[str, object] = {
        "booking_id": "7K3QX9M2A",
        "branch": "jakarta-salemba",
        "service": "JHT",
        "channel": "online",
        "party_size": 1,
        "slot_start": datetime(2020, 6, 15, 9, 0, tzinfo=WIB),
        "slot_end": datetime(2020, 6, 15, 10, 0, tzinfo=WIB),
        "masked_name": "B*** S******",
    }
    fields.update(changes)
    return Booking(**fields)  # type: ignore[arg-type]


ISSUED_AT = _utc(2020, 6, 14, 3, 0)


def make_token(
    booking: Booking | None = None,
    *,
    key: Ed25519PrivateKey = KEY_CURRENT,
    key_id: bytes | None = None,
    issued_at: datetime = ISSUED_AT,
    expires_at: datetime | None = None,
) -> str:
    """A token signed by `key` (its own key id unless `key_id` is given)."""
    booking = booking or standard_booking()
    return token.encode(
        booking,
        kid=key_id or kid(key),
        issued_at=issued_at,
        expires_at=expires_at or booking.slot_end + timedelta(hours=12),
        sign=key.sign,
    )


def raw_token(
    signed: bytes,
    key: Ed25519PrivateKey = KEY_CURRENT,
    sign: Callable[[bytes], bytes] | None = None,
) -> str:
    """A token from arbitrary claim bytes, correctly signed (for malformed-content vectors)."""
    signature = (sign or key.sign)(token.DOMAIN + signed)
    return token.PREFIX + base45.encode(signed + signature)


def claim_bytes(
    *,
    version: int = 1,
    key: Ed25519PrivateKey = KEY_CURRENT,
    kinds: int = 0x00,
    party: int = 1,
    texts: Iterable[bytes] = (b"7K3QX9M2A", b"jakarta-salemba", b"B*** S******"),
    lengths: Iterable[int] | None = None,
    tail: bytes = b"",
) -> bytes:
    """Claim bytes with chosen (possibly invalid) fields; `tail` is appended after the texts."""
    start = int(datetime(2020, 6, 15, 9, 0, tzinfo=WIB).timestamp()) // 60
    out = struct.pack(
        ">B4sIIIHbBB", version, kid(key), int(ISSUED_AT.timestamp()),
        int(_utc(2020, 6, 15, 15).timestamp()), start, 60, 28, kinds, party,
    )  # fmt: skip
    texts = list(texts)
    sizes = list(lengths) if lengths is not None else [len(t) for t in texts]
    for size, text in zip(sizes, texts, strict=True):
        out += bytes([size]) + text
    return out + tail


@dataclass
class StaticFacts:
    """BookingFacts from fixed values."""

    trust: TrustList | None
    cancelled: set[str] = field(default_factory=set)

    def trust_list(self) -> TrustList | None:
        return self.trust

    def is_cancelled(self, booking_id: str) -> bool:
        return booking_id in self.cancelled


@dataclass
class MemoryCheckins:
    """CheckinState from a dict."""

    records: dict[str, CheckinRecord] = field(default_factory=dict)

    def record(self, booking_id: str) -> CheckinRecord | None:
        return self.records.get(booking_id)


def make_verifier(
    *,
    branch: str = "jakarta-salemba",
    zone: str = "Asia/Jakarta",
    early_min: int = 30,
    late_min: int = 30,
    cancelled: Iterable[str] = (),
    checked_in: Iterable[CheckinRecord] = (),
    trust: bytes | None = None,
    without_trust_list: bool = False,
) -> BookingVerifier:
    """A verifier over the standard trust list (or `trust`, or none at all) with in-memory facts."""
    document = standard_trust_list() if trust is None else trust
    held = None if without_trust_list else trustlist.parse(document, [ROOT.public_key()])
    facts = StaticFacts(held, set(cancelled))
    rules = Rules(
        branch=branch,
        zone=ZoneInfo(zone),
        early_tolerance=timedelta(minutes=early_min),
        late_tolerance=timedelta(minutes=late_min),
    )
    return BookingVerifier(rules, facts, MemoryCheckins({r.booking_id: r for r in checked_in}))
