"""The one place a `[printer]` table becomes a printer: simulated, or real through python-escpos."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from receipts.config import PrinterConfig
from receipts.elements import Element
from receipts.status import ReceiptPrinter


def build_printer(
    config: PrinterConfig,
    *,
    kind: Callable[[Sequence[Element]], str] = lambda _elements: "slip",
) -> ReceiptPrinter:
    """The printer `config` names, with its timeouts; nothing is opened before its first use.

    Args:
        config: the app's ``[printer]`` table.
        kind: simulated only: names each job's PNG (``{kind}-NNNN.png``).
    """
    if config.transport == "simulated":
        from receipts.sim import SimulatedPrinter

        return SimulatedPrinter(
            config.out_dir, columns=config.columns, paper_dots=config.paper_dots, kind=kind
        )
    from receipts.escpos_printer import connect

    return connect(config)
