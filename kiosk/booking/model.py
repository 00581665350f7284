"""The verdict the kiosk reaches about a booking token, with the words it shows."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.bilingual import Bilingual
from uplink.booking.model import Booking


@dataclass(frozen=True)
class Verdict:
    """What the kiosk decided about one token, with the words to show the participant.

    Attributes:
        accepted: True when the participant may proceed to the temperature gate.
        reason: "ok" or a rejection code such as "wrong_day", "bad_signature",
            "already_checked_in" (see `kiosk.booking.reasons.REASONS`).
        message_id: What happened, in Bahasa Indonesia, for the participant.
        message_en: The same in English.
        next_step_id: What to do next, in Bahasa Indonesia.
        next_step_en: The same in English.
        booking: The booking, only when its signature verified (None otherwise).
    """

    accepted: bool
    reason: str
    message_id: str
    message_en: str
    next_step_id: str
    next_step_en: str
    booking: Booking | None

    @property
    def message(self) -> Bilingual:
        """What happened, in both languages."""
        return Bilingual(self.message_id, self.message_en)

    @property
    def next_step(self) -> Bilingual:
        """What to do next, in both languages."""
        return Bilingual(self.next_step_id, self.next_step_en)


def as_dict(verdict: Verdict) -> dict[str, object]:
    """A Verdict as JSON-ready data (times in ISO 8601 with their UTC offset)."""
    booking = verdict.booking
    return {
        "accepted": verdict.accepted,
        "reason": verdict.reason,
        "message_id": verdict.message_id,
        "message_en": verdict.message_en,
        "next_step_id": verdict.next_step_id,
        "next_step_en": verdict.next_step_en,
        "booking": None
        if booking is None
        else {
            "booking_id": booking.booking_id,
            "branch": booking.branch,
            "service": booking.service,
            "channel": booking.channel,
            "party_size": booking.party_size,
            "slot_start": booking.slot_start.isoformat(),
            "slot_end": booking.slot_end.isoformat(),
            "masked_name": booking.masked_name,
        },
    }
