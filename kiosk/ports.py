"""The kiosk's ports: small protocols every adapter (real or simulated) implements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from kiosk.booking import CheckinRecord, Verdict
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
    """The durable local record of check-ins (`kiosk.booking.CheckinLedger`)."""

    def claim(self, booking_id: str, kiosk_id: str, at: datetime) -> bool: ...

    def record(self, booking_id: str) -> CheckinRecord | None: ...


class EventSink(Protocol):
    """Where events go: `uplink.Uplink` (durable before `record` returns)."""

    def record(self, type_name: str, payload: Mapping[str, Any]) -> Any: ...
