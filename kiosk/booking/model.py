"""The booking and the verdict the kiosk reaches about it: plain values shared by every layer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Service = Literal["JHT", "JKK", "JKM", "JP"]
"""The four claim programmes: old-age savings, work accident, death, pension."""

Channel = Literal["online", "collective"]
"""How the booking was made: by the participant online, or by an employer for many workers."""

SERVICES: tuple[Service, ...] = ("JHT", "JKK", "JKM", "JP")
CHANNELS: tuple[Channel, ...] = ("online", "collective")


@dataclass(frozen=True)
class Booking:
    """One verified booking, as signed by the back office.

    Attributes:
        booking_id: The back office's id of the booking (also the code a participant can type).
        branch: The branch id the booking is for.
        service: The claim programme.
        channel: Online booking or collective (employer) booking.
        party_size: People covered by this booking (1 for a single participant).
        slot_start: Start of the booked slot, timezone-aware.
        slot_end: End of the booked slot, timezone-aware.
        masked_name: The participant's name with most letters hidden, e.g. "B*** S******".
    """

    booking_id: str
    branch: str
    service: Service
    channel: Channel
    party_size: int
    slot_start: datetime
    slot_end: datetime
    masked_name: str


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


_SERVICES: dict[str, Service] = {service: service for service in SERVICES}
_CHANNELS: dict[str, Channel] = {channel: channel for channel in CHANNELS}


def parse_service(value: str) -> Service:
    """`value` as a Service.

    Raises:
        ValueError: not one of JHT, JKK, JKM, JP.
    """
    try:
        return _SERVICES[value]
    except KeyError:
        raise ValueError(f"service {value!r} is not one of {', '.join(SERVICES)}") from None


def parse_channel(value: str) -> Channel:
    """`value` as a Channel.

    Raises:
        ValueError: not "online" or "collective".
    """
    try:
        return _CHANNELS[value]
    except KeyError:
        raise ValueError(f"channel {value!r} is not one of {', '.join(CHANNELS)}") from None
