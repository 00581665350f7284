"""The uplink's exceptions.

UplinkError                                        root of everything the uplink raises
├── MessageError (ValueError)                      a message or payload breaks the contract
├── StorageError (OSError)                         the outbox's file cannot be read or written
│   └── OutboxFull                                 a critical event could not be stored (disk, cap)
├── TopicError (ValueError)                        a device id or topic outside the topic scheme
├── branches.BranchIdError (ValueError)            a branch id not in the form {city}-{office}
│   └── branches.UnknownBranchError                a branch id not in the branch table
├── booking.base45.Base45Error (ValueError)        text that is not valid base45
├── booking.token.TokenError (ValueError)          a booking token that cannot be read (`reason`)
├── booking.codes.BookingCodeError (ValueError)    a mistyped booking code
└── booking.trustlist.TrustListError (ValueError) a trust list malformed, wrongly signed or old

Each keeps its builtin base, so code that catches `ValueError` or `OSError` still catches it.
"""


class UplinkError(Exception):
    """Root of the uplink's exceptions."""


class MessageError(UplinkError, ValueError):
    """A message does not match the contract."""


class StorageError(UplinkError, OSError):
    """The outbox's file could not be read or written (disk full, I/O error, corruption).

    Callers handle it where it happens and try again later: nothing in the outbox is lost.
    """


class OutboxFull(StorageError):
    """A critical event could not be stored; the device must say so loudly."""


class TopicError(UplinkError, ValueError):
    """A device id or topic is not valid in the topic scheme."""
