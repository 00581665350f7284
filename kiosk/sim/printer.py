"""The kiosk's simulated printer: the shared one, naming each PNG ticket or slip."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from receipts import Element, QrCode
from receipts.sim import Printed as Printed
from receipts.sim import SimulatedPrinter as _SharedSimulatedPrinter


def ticket_or_slip(elements: Sequence[Element]) -> str:
    """Tickets carry a tracking QR; referral slips do not."""
    return "ticket" if any(isinstance(e, QrCode) for e in elements) else "slip"


class SimulatedPrinter(_SharedSimulatedPrinter):
    """`receipts.sim.SimulatedPrinter` writing ``ticket-NNNN.png`` / ``slip-NNNN.png``."""

    def __init__(
        self,
        out_dir: Path | None = None,
        *,
        columns: int = 32,
        paper_dots: int = 384,
        paper_left: int | None = None,
        render: bool = True,
    ) -> None:
        super().__init__(
            out_dir,
            columns=columns,
            paper_dots=paper_dots,
            paper_left=paper_left,
            render=render,
            kind=ticket_or_slip,
        )
