"""A stand-in back office for simulations, tests and benchmarks: keys, trust list, signed tokens.

It signs with the same code the back office uses (`uplink.booking.token`, `.trustlist`), so the
kiosk verifies its tokens exactly as it verifies real ones.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.booking import Booking, Channel, Service
from kiosk.sim.frames import Gray, qr_image
from uplink.booking import token as booking_token
from uplink.booking import trustlist


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class SimIssuer:
    """A root key, one signing key, and a trust list naming it.

    Use `anchor` in `[booking] trust_anchors`, `write_trust_list(path)` for `trust_list_path`,
    and `issue(...)` for tokens.
    """

    root: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    signer: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    valid_from: datetime = datetime(2020, 1, 1, tzinfo=UTC)
    valid_until: datetime = datetime(2040, 1, 1, tzinfo=UTC)

    @property
    def anchor(self) -> str:
        """The root public key, base64 (the config's trust anchor)."""
        raw = trustlist.raw_public(self.root.public_key())
        return base64.b64encode(raw).decode()

    @property
    def kid(self) -> bytes:
        return trustlist.key_id(self.signer.public_key())

    def trust_list_document(self, sequence: int = 1) -> bytes:
        body: dict[str, Any] = {
            "sequence": sequence,
            "issued_at": _iso(self.valid_from),
            "keys": [
                {
                    "kid": self.kid.hex(),
                    "public_key": base64.b64encode(
                        trustlist.raw_public(self.signer.public_key())
                    ).decode(),
                    "valid_from": _iso(self.valid_from),
                    "valid_until": _iso(self.valid_until),
                    "withdrawn_at": None,
                }
            ],
        }
        return trustlist.sign(body, self.root)

    def write_trust_list(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.trust_list_document())
        return path

    def issue(
        self,
        booking_id: str,
        *,
        branch: str,
        slot_start: datetime,
        zone: tzinfo,
        service: Service = "JHT",
        channel: Channel = "online",
        party_size: int = 1,
        masked_name: str = "B*** S******",
        slot_minutes: int = 60,
        issued_at: datetime | None = None,
    ) -> str:
        """A signed booking token (the QR text)."""
        start = slot_start.astimezone(zone).replace(second=0, microsecond=0)
        booking = Booking(
            booking_id=booking_id,
            branch=branch,
            service=service,
            channel=channel,
            party_size=party_size,
            slot_start=start,
            slot_end=start + timedelta(minutes=slot_minutes),
            masked_name=masked_name,
        )
        issued = issued_at or start - timedelta(days=1)
        return booking_token.encode(
            booking,
            kid=self.kid,
            issued_at=issued,
            expires_at=start + timedelta(days=2),
            sign=self.signer.sign,
        )


def token_qr(text: str, *, module_px: int = 4) -> Gray:
    """A clean QR image of a token, as a phone shows it."""
    return qr_image(text, module_px=module_px)
