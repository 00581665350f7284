"""The kiosk's ports: small protocols every adapter (real or simulated) implements."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np
import numpy.typing as npt

from kiosk.booking import CheckinRecord, Verdict
from kiosk.domain.checkin import BookedCheckin, Issued
from kiosk.domain.temperature import Reading
from receipts import PaperStatus as PaperStatus  # re-exported: the engine's printer answers
from receipts import ReceiptPrinter

Frame = npt.NDArray[np.uint8]
"""A camera frame: 8-bit grayscale (H, W) or BGR (H, W, 3)."""


@dataclass(frozen=True)
class FrameSample:
    """A frame with its capture time (monotonic seconds) and a running number."""

    image: Frame
    captured_at: float
    seq: int


class FrameSource(Protocol):
    """A camera. Only the newest frame is kept: nothing queues up while the kiosk is busy."""

    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def latest(self, newer_than: int = -1) -> FrameSample | None:
        """The newest frame if its `seq` is above `newer_than` and it is not stale, else None.

        Raises:
            CameraError: the camera stopped delivering frames (hung, unplugged).
        """
        ...


class Thermometer(Protocol):
    """A contactless thermometer."""

    def read(self) -> Reading:
        """One sample.

        Raises:
            ThermometerError: missing device, error flag, bad checksum.
        """
        ...


TicketPrinter = ReceiptPrinter
"""The ticket printer: the receipt printer port of `receipts` (tickets and referral slips)."""


class Verifier(Protocol):
    """Checks a scanned or typed booking token (`kiosk.booking.BookingVerifier`)."""

    def verify(self, text: str, now: datetime) -> Verdict: ...


class Ledger(Protocol):
    """The durable local record of check-ins (`kiosk.booking.CheckinLedger`).

    Every method raises `kiosk.errors.LedgerError` when the ledger cannot be read or written.
    """

    def claim(self, booking_id: str, kiosk_id: str, at: datetime) -> bool:
        """Claim a booking for this kiosk, durably; False if it was already checked in."""
        ...

    def record(self, booking_id: str) -> CheckinRecord | None:
        """The booking's check-in (here or, as far as synced, elsewhere), or None."""
        ...


class TicketBook(Protocol):
    """Durable queue numbers and check-ins (`kiosk.store.TicketBook`).

    Every method raises `kiosk.errors.TicketBookError` when the book cannot be read or written.
    """

    def issue(
        self,
        checkin_id: str,
        *,
        day: str,
        service: str,
        klass: str,
        number_of: Callable[[int], str],
        at: datetime,
        booking_id: str | None = None,
        temperature: str = "passed",
    ) -> Issued:
        """Take the next number of (day, service, class) for `checkin_id`, or return its own."""
        ...

    def for_booking(self, booking_id: str) -> BookedCheckin | None:
        """The check-in this kiosk made for `booking_id`, if any."""
        ...

    def last_day(self) -> str | None:
        """The latest day (ISO date) a number was issued on, if any."""
        ...

    def printing(self) -> list[BookedCheckin]:
        """Check-ins whose ticket was being delivered when the kiosk stopped."""
        ...

    def begin_printing(self, checkin_id: str) -> bool:
        """Claim the one print of a check-in's ticket; False if it was delivered or printing."""
        ...

    def mark_delivered(self, checkin_id: str, delivery: str) -> bool:
        """Record how the number reached the participant ("printed" or "screen_only")."""
        ...

    def count_since(
        self, *, day: str, service: str, classes: Iterable[str], since: datetime
    ) -> int:
        """Check-ins of `service` in `classes` issued at or after `since` on `day`."""
        ...

    def numbers(self, day: str) -> list[str]:
        """Every number issued on `day`."""
        ...
