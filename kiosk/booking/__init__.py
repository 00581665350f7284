"""Booking tokens that verify offline: model, verifier, check-in ledger, cache, sync and lookup.

Public surface::

    Booking, Verdict          the model (kiosk.booking.model)
    BookingVerifier           verify(text, now) -> Verdict; signature checked before any field
    CheckinLedger             durable check-ins: is_checked_in, claim, merge_remote
    BookingConfig             the kiosk's [booking] table
    build_verifier(config)    a verifier over the config's cache and ledger
    open_booking(config)      BookingServices: cache, ledger, verifier, sync, lookup
    REASONS                   every reason code a Verdict can carry

HTTP (requests) is imported only by `open_booking` and `kiosk.booking.sync`/`lookup`.
"""

from kiosk.booking.config import BookingConfig
from kiosk.booking.factory import BookingServices, build_verifier, open_booking, open_cache
from kiosk.booking.ledger import CheckinLedger, CheckinRecord, Duplicate, MergeResult
from kiosk.booking.model import Verdict
from kiosk.booking.reasons import REASONS
from kiosk.booking.verifier import BookingVerifier, Rules
from uplink.booking.model import Booking, Channel, Service

__all__ = [
    "REASONS",
    "Booking",
    "BookingConfig",
    "BookingServices",
    "BookingVerifier",
    "Channel",
    "CheckinLedger",
    "CheckinRecord",
    "Duplicate",
    "MergeResult",
    "Rules",
    "Service",
    "Verdict",
    "build_verifier",
    "open_booking",
    "open_cache",
]
