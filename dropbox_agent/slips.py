"""Deposit slips printed on a thread of their own, the printer's faults reported as they begin and
clear (a slow or jammed printer never holds up the loop that counts deposits)."""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from dropbox_agent.domain.model import PrintReceipt
from dropbox_agent.domain.text import slip_lines
from dropbox_agent.errors import PrinterError
from dropbox_agent.ports import FaultSink, ReceiptPrinter

logger = logging.getLogger(__name__)


class SlipPrinter:
    """Prints the slips queued by the loop, in order, until stopped.

    Args:
        printer: the slip printer.
        box_id: printed on every slip.
        timezone: the branch's time zone, for the slip's time.
        wall: the UTC wall time of a monotonic clock time (a slip shows its deposit's time).
        fault: told when a printer fault begins (`printer`, its code, True) and clears.
    """

    def __init__(
        self,
        printer: ReceiptPrinter,
        *,
        box_id: str,
        timezone: ZoneInfo,
        wall: Callable[[float], datetime],
        fault: FaultSink,
    ) -> None:
        self._printer, self._box_id, self._zone = printer, box_id, timezone
        self._wall, self._fault = wall, fault
        self._jobs: queue.SimpleQueue[PrintReceipt | None] = queue.SimpleQueue()
        self._printer_fault: str | None = None  # the code of the fault reported active, if any

    def submit(self, job: PrintReceipt) -> None:
        """Queue one slip (any thread)."""
        self._jobs.put(job)

    def stop(self) -> None:
        """Make `run` return once the slips queued before are printed."""
        self._jobs.put(None)

    def run(self) -> None:
        """Print queued slips until `stop` (the printer's thread)."""
        while (job := self._jobs.get()) is not None:
            lines = slip_lines(
                deposit_no=job.deposit_no,
                box_id=self._box_id,
                when=self._wall(job.t).astimezone(self._zone).strftime("%d-%m-%Y %H:%M"),
                code=job.code,
                booking_ref=job.booking_ref,
                box_full=job.box_full,
            )
            try:
                self._printer.print_slip(lines)
            except PrinterError as exc:
                logger.warning("slip for deposit %d not printed: %s", job.deposit_no, exc)
                if self._printer_fault != exc.code:
                    if self._printer_fault is not None:
                        self._fault("printer", self._printer_fault, False)
                    self._printer_fault = exc.code
                    self._fault("printer", exc.code, True)
            except Exception:  # thread boundary: a printer bug must not stop the slips
                logger.exception("slip for deposit %d failed", job.deposit_no)
            else:
                if self._printer_fault is not None:
                    self._fault("printer", self._printer_fault, False)
                    self._printer_fault = None
