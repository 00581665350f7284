"""What a printer says about itself, and the port every receipt printer offers."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

from receipts.elements import Element


class PaperStatus(StrEnum):
    """A printer's answer to "can you print?"."""

    OK = "ok"
    LOW = "paper_low"
    OUT = "paper_out"
    OFFLINE = "offline"
    UNKNOWN = "unknown"  # the printer did not answer: not the same as "paper OK"


class ReceiptPrinter(Protocol):
    """A receipt printer taking layout elements (`receipts.EscposPrinter`, `SimulatedPrinter`)."""

    def status(self) -> PaperStatus:
        """Ask the printer; never blocks longer than the configured status timeout."""
        ...

    def print_elements(self, elements: Sequence[Element]) -> None:
        """Print one ticket or slip.

        Raises:
            PrinterError: the printer is missing, offline, or the write failed.
        """
        ...


class AnswersStatus(Protocol):
    """Any printer port that can say whether it can print."""

    def status(self) -> PaperStatus: ...


def can_print(printer: AnswersStatus) -> bool:
    """Whether `printer` would print now: it has paper and is online, or it cannot say (a
    printer that answers nothing is tried, as when printing)."""
    return printer.status() not in (PaperStatus.OUT, PaperStatus.OFFLINE)
