"""The trust list: which Ed25519 keys may sign bookings, and when; itself signed by a root key.

Document (JSON)::

    {"format": "lapak-trust-list/1", "anchor_kid": "<hex>", "payload": "<base64 body>",
     "signature": "<base64 Ed25519 signature of the body bytes>"}

Body (JSON)::

    {"sequence": 7, "issued_at": "2020-06-15T00:00:00Z",
     "keys": [{"kid": "1a2b3c4d", "public_key": "<base64 raw 32 bytes>",
               "valid_from": "...Z", "valid_until": "...Z", "withdrawn_at": null}]}

A key may sign tokens issued inside [valid_from, valid_until]; its tokens stay valid after that
(rotation). A withdrawn key invalidates every token it signed. `sequence` never goes backwards,
so an old list (from before a withdrawal) cannot be replayed to a kiosk.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from uplink.errors import UplinkError

FORMAT = "lapak-trust-list/1"
MAX_DOCUMENT_BYTES = 1_000_000


class TrustListError(UplinkError, ValueError):
    """A trust list is malformed, not signed by a trusted root key, or older than the one held."""


@dataclass(frozen=True)
class TrustedKey:
    """One booking-signing key and the period in which it may sign."""

    kid: bytes
    public_key: Ed25519PublicKey
    valid_from: datetime
    valid_until: datetime
    withdrawn_at: datetime | None

    def signed_in_period(self, issued_at: datetime) -> bool:
        """Whether a token issued at `issued_at` falls inside the key's signing period."""
        return self.valid_from <= issued_at <= self.valid_until


@dataclass(frozen=True)
class TrustList:
    """A verified trust list."""

    sequence: int
    issued_at: datetime
    keys: Mapping[bytes, TrustedKey]
    document: bytes

    def key(self, kid: bytes) -> TrustedKey | None:
        """The key with this id, or None when the list does not hold it."""
        return self.keys.get(kid)


def key_id(public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte key id used in tokens: the start of SHA-256 of the raw public key."""
    return hashlib.sha256(raw_public(public_key)).digest()[:4]


def raw_public(public_key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of an Ed25519 public key."""
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def load_anchor(text: str) -> Ed25519PublicKey:
    """A root public key from its base64 form (as written in the kiosk config).

    Raises:
        ValueError: not base64 of 32 bytes.
    """
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"trust anchor is not base64: {exc}") from None
    if len(raw) != 32:
        raise ValueError(f"trust anchor must be 32 bytes, got {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def sign(body: Mapping[str, Any], root: Ed25519PrivateKey) -> bytes:
    """Sign a trust-list body with the root key; returns the document bytes (back office)."""
    payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    document = {
        "format": FORMAT,
        "anchor_kid": key_id(root.public_key()).hex(),
        "payload": base64.b64encode(payload).decode(),
        "signature": base64.b64encode(root.sign(payload)).decode(),
    }
    return json.dumps(document, indent=1).encode() + b"\n"


def parse(
    document: bytes, anchors: Sequence[Ed25519PublicKey], *, min_sequence: int = 0
) -> TrustList:
    """Verify a trust-list document against the root keys and read it.

    Args:
        document: The document bytes as served or cached.
        anchors: Root public keys the kiosk trusts (from its config).
        min_sequence: The sequence of the list already held; an older list is refused.

    Raises:
        TrustListError: malformed, unsigned or signed by an unknown root, or older than held.
    """
    if len(document) > MAX_DOCUMENT_BYTES:
        raise TrustListError(f"trust list of {len(document)} bytes is too large")
    try:
        outer = _json(document)
        if not isinstance(outer, dict) or outer.get("format") != FORMAT:
            raise TrustListError(f"not a {FORMAT} document")
        payload = base64.b64decode(str(outer["payload"]), validate=True)
        signature = base64.b64decode(str(outer["signature"]), validate=True)
        anchor_kid = bytes.fromhex(str(outer["anchor_kid"]))
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        if isinstance(exc, TrustListError):
            raise
        raise TrustListError(f"trust list is malformed: {_reason(exc)}") from None
    root = next((a for a in anchors if key_id(a) == anchor_kid), None)
    if root is None:
        raise TrustListError(f"trust list is signed by root {anchor_kid.hex()}, not a known anchor")
    try:
        root.verify(signature, payload)
    except InvalidSignature:
        raise TrustListError("trust list signature does not verify; it was altered") from None
    try:
        body = _json(payload)
        sequence = int(body["sequence"])
        issued_at = _time(body["issued_at"])
        keys = {key.kid: key for key in (_key(entry) for entry in body["keys"])}
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise TrustListError(f"trust list body is malformed: {_reason(exc)}") from None
    if sequence < min_sequence:
        raise TrustListError(f"trust list sequence {sequence} is older than held ({min_sequence})")
    return TrustList(sequence=sequence, issued_at=issued_at, keys=keys, document=document)


def _reason(exc: Exception) -> str:
    """What is wrong, in words: a KeyError's text is only the key's repr ('payload')."""
    return f"no {exc.args[0]!r} field" if isinstance(exc, KeyError) and exc.args else str(exc)


def _json(data: bytes) -> Any:
    """`json.loads`, with absurd nesting reported as ValueError instead of RecursionError."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _key(entry: Mapping[str, Any]) -> TrustedKey:
    raw = base64.b64decode(str(entry["public_key"]), validate=True)
    public = Ed25519PublicKey.from_public_bytes(raw)
    kid = bytes.fromhex(str(entry["kid"]))
    if kid != key_id(public):
        raise ValueError(f"key id {entry['kid']} does not match its public key")
    withdrawn = entry.get("withdrawn_at")
    return TrustedKey(
        kid=kid,
        public_key=public,
        valid_from=_time(entry["valid_from"]),
        valid_until=_time(entry["valid_until"]),
        withdrawn_at=None if withdrawn is None else _time(withdrawn),
    )


def _time(value: object) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"time {value!r} has no UTC offset")
    return moment.astimezone(UTC)
