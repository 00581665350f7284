"""The kiosk's simulated printer names each PNG a ticket or a slip (built by `kiosk.devices`)."""

from __future__ import annotations

from collections.abc import Sequence

from receipts import Element, QrCode


def ticket_or_slip(elements: Sequence[Element]) -> str:
    """Tickets carry a tracking QR; referral slips do not."""
    return "ticket" if any(isinstance(e, QrCode) for e in elements) else "slip"
