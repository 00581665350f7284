"""The back office's booking side: signing keys, issuing tokens, the trust list and the sync API.

Public surface::

    BookingsConfig                  its TOML file (database, keys, API address, time zones)
    KeyStore                        Ed25519 keys on disk (0600): the root and the signing keys
    BookingStore                    bookings, keys, check-ins and the trust list in SQLite
    Issuer                          keygen / withdraw / issue / cancel / trust_list
    BookingApi                      HTTP API (stdlib ThreadingHTTPServer) with ETags
    issue_sample_day(...)           a day of sample bookings as tokens and QR PNGs (simulation)
"""

from backoffice.bookings.api import BookingApi
from backoffice.bookings.config import BookingsConfig
from backoffice.bookings.issuer import IssuedBooking, Issuer, KeyInfo, Withdrawal, mask_name
from backoffice.bookings.keys import KeyStore, KeyStoreError
from backoffice.bookings.sample import SampleDay, issue_sample_day
from backoffice.bookings.store import BookingStore

__all__ = [
    "BookingApi",
    "BookingStore",
    "BookingsConfig",
    "IssuedBooking",
    "Issuer",
    "KeyInfo",
    "KeyStore",
    "KeyStoreError",
    "SampleDay",
    "Withdrawal",
    "issue_sample_day",
    "mask_name",
]
