"""The kiosk's exceptions.

KioskError                         root of everything the kiosk raises
├── CameraError (OSError)          no camera, or it stopped delivering frames
└── ThermometerError (OSError)     the thermometer is missing or reports an error

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
