"""The kiosk's exceptions.

KioskError                                 root of everything the kiosk raises
├── CameraError (OSError)                  no camera, or it stopped delivering frames
├── ThermometerError (OSError)             the thermometer is missing or reports an error
├── SetupError (OSError)                   the uplink cannot be set up (its TLS files)
├── StoreError (OSError)                   a durable store cannot be read or written
│   ├── TicketBookError                    the ticket book (`kiosk.store.TicketBook`)
│   └── LedgerError                        the check-in ledger (`kiosk.booking.CheckinLedger`)
├── booking.cache.CacheError (ValueError)  a synced booking document is malformed (cache kept)
├── booking.http.ApiUnavailable (ConnectionError)
│                                          the booking API is unreachable or failing
└── ui.voices.VoiceError (RuntimeError)    espeak-ng is missing or could not speak a prompt

Each keeps its builtin base, so code that catches `OSError` or `ValueError` still catches it.
A store's file that cannot be opened at start raises `uplink.StorageError` (the durable SQLite
files are opened in one place); `kiosk` says it, and each of these, in one line.

Printing raises `receipts.PrinterError` (re-exported here): one class for tickets and slips.
"""

from receipts import PrinterError as PrinterError


class KioskError(Exception):
    """Root of the kiosk's exceptions."""


class CameraError(KioskError, OSError):
    """The camera cannot deliver frames; the message says which camera and what to check."""


class ThermometerError(KioskError, OSError):
    """The thermometer cannot give a reading.

    Attributes:
        code: machine-readable fault code for the fault event (e.g. ``missing``, ``error_flag``).
    """

    def __init__(self, message: str, code: str = "read_failed") -> None:
        super().__init__(message)
        self.code = code


class SetupError(KioskError, OSError):
    """The uplink cannot be set up at start: its TLS files cannot be read or do not match.

    The message names the files' keys and says that `provision` writes them.
    """


class StoreError(KioskError, OSError):
    """A durable store could not be read or written (disk full, I/O error, corruption).

    The engine takes the kiosk out of service on it: checking people in without a record would
    lose them. The message names the file and what was being done.
    """


class TicketBookError(StoreError):
    """The ticket book could not be read or written."""


class LedgerError(StoreError):
    """The check-in ledger could not be read or written."""
