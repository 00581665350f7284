"""The receipt printers' exceptions (shared by the kiosk's tickets and the dropbox's slips)."""

from __future__ import annotations


class ReceiptError(Exception):
    """Root of the exceptions of `receipts`."""


class PrinterError(ReceiptError, OSError):
    """A ticket or slip could not be printed, or the printer could not be asked.

    Attributes:
        code: machine-readable fault code for the fault event: ``offline``, ``paper_out``,
            ``timeout``, ``hung`` or ``print_failed``.
    """

    def __init__(self, message: str, code: str = "print_failed") -> None:
        super().__init__(message)
        self.code = code


class EscposRenderError(ReceiptError, ValueError):
    """ESC/POS bytes hold a command the PNG renderer does not know, or are cut short."""
