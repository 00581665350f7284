"""The kiosk's exceptions.

KioskError                         root of everything the kiosk raises
├── CameraError (OSError)          no camera, or it stopped delivering frames
├── ThermometerError (OSError)     the thermometer is missing or reports an error
└── PrinterError (OSError)         the ticket printer is missing, offline or out of paper
"""


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


class PrinterError(KioskError, OSError):
    """The ticket could not be printed.

    Attributes:
        code: machine-readable fault code for the fault event (e.g. ``offline``, ``paper_out``).
    """

    def __init__(self, message: str, code: str = "print_failed") -> None:
        super().__init__(message)
        self.code = code
