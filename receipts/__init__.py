"""Receipt printing shared by the kiosk's tickets and the dropbox's slips.

Public surface::

    Line, QrCode, Rule, Feed, Cut, Element   the element vocabulary (what goes on the paper)
    fit(elements, columns), wrap, lines_of   wrapping to the paper's width, between words
    PaperStatus, ReceiptPrinter              what a printer says; the port both apps print to
    PrinterConfig                            the one ``[printer]`` table
    receipts.escpos_printer                  python-escpos: bytes, transports, EscposPrinter
    receipts.sim.SimulatedPrinter            the simulator (real bytes, PNGs, faults)
    receipts.render                          ESC/POS bytes -> PNG, as the paper would look
    receipts.wiring.build_printer(config)    the real or simulated printer a config names
    receipts.wiring.build_simulated_printer  its simulated twin (the one place one is made)
    receipts.wiring.printer_usable(config)   whether that printer can work here

Exceptions::

    ReceiptError                      root of everything this package raises
    ├── PrinterError (OSError)        a receipt was not printed / the printer could not be asked
    └── EscposRenderError (ValueError) bytes the PNG renderer does not know, or cut short
"""

from receipts.config import PrinterConfig
from receipts.elements import (
    Align,
    Cut,
    Element,
    Feed,
    Line,
    QrCode,
    Rule,
    Size,
    ascii_text,
    fit,
    lines_of,
    wrap,
)
from receipts.errors import EscposRenderError, PrinterError, ReceiptError
from receipts.status import PaperStatus, ReceiptPrinter

__all__ = [
    "Align",
    "Cut",
    "Element",
    "EscposRenderError",
    "Feed",
    "Line",
    "PaperStatus",
    "PrinterConfig",
    "PrinterError",
    "QrCode",
    "ReceiptError",
    "ReceiptPrinter",
    "Rule",
    "Size",
    "ascii_text",
    "fit",
    "lines_of",
    "wrap",
]
