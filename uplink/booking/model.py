"""What a signed booking says: plain values shared by the back office and the kiosks."""

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
