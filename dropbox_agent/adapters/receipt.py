"""Deposit slips on an ESC/POS printer: the shared `receipts` stack, fitted to the box's paper."""

from __future__ import annotations

import logging

from dropbox_agent.config import PrinterConfig
from dropbox_agent.ports import SlipLines
from receipts import PaperStatus, fit
from receipts.escpos_printer import escpos_bytes
from receipts.escpos_printer import is_usable as transport_usable
from receipts.wiring import build_printer

logger = logging.getLogger(__name__)


def is_usable(config: PrinterConfig | None = None) -> tuple[bool, str]:
    """Whether python-escpos (and the transport's library) can be used here."""
    config = config or PrinterConfig()
    if config.transport == "simulated":
        return True, "simulated printer"
    return transport_usable(config.transport, config.target)


def render_slip(lines: SlipLines, *, columns: int = 32) -> bytes:
    """The ESC/POS bytes of one slip (the same for every transport)."""
    return escpos_bytes(fit(lines, columns), columns=columns)


class EscposPrinter:
    """A `ReceiptPrinter` for slips on the printer `config` names (USB, serial, network, file),
    every write and status read bounded by the config's timeouts.

    Raises `receipts.PrinterError` with code ``offline`` when the printer cannot be reached,
    ``timeout`` or ``hung`` when it does not take the slip in time.
    """

    def __init__(self, config: PrinterConfig) -> None:
        self.config = config
        self._printer = build_printer(config)  # `simulated` too: a box without paper yet

    def status(self) -> PaperStatus:
        """The printer's answer (unknown when it gives none), at most `status_timeout_s`."""
        return self._printer.status()

    def print_slip(self, lines: SlipLines) -> None:
        self._printer.print_elements(fit(lines, self.config.columns))

    def close(self) -> None:
        close = getattr(self._printer, "close", None)  # the ReceiptPrinter port has no close()
        if close is not None:
            close()
