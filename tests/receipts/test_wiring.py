"""One `[printer]` shape for both apps, and the printer it builds."""

from __future__ import annotations

from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from dropbox_agent.config import PrinterConfig as SlipPrinterConfig
from kiosk.config import PrinterConfig as TicketPrinterConfig
from receipts import Cut, Line, PrinterConfig, QrCode
from receipts.escpos_printer import EscposPrinter
from receipts.sim import SimulatedPrinter
from receipts.wiring import build_printer

TABLE = {
    "transport": "serial",
    "target": "/dev/ttyUSB0@19200",
    "columns": 48,
    "paper_dots": 576,
    "status_timeout_s": 0.5,
    "print_timeout_s": 3.0,
}


def test_the_kiosk_and_the_dropbox_read_the_same_printer_table() -> None:
    shared = PrinterConfig.model_validate(TABLE)
    kiosk = TicketPrinterConfig.model_validate(TABLE)
    dropbox = SlipPrinterConfig.model_validate({**TABLE, "enabled": True})
    for app in (kiosk, dropbox):
        assert isinstance(app, PrinterConfig)
        assert {k: getattr(app, k) for k in TABLE} == {k: getattr(shared, k) for k in TABLE}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"transport": "usb", "target": "epson"}, "vendor:product"),
        ({"transport": "network", "target": "10.0.0.5:http"}, "host:port"),
        ({"transport": "serial", "target": "/dev/ttyUSB0@fast"}, "baud rate"),
        ({"transport": "file"}, "needs printer.target"),
    ],
)
def test_a_bad_target_says_what_it_should_look_like(table: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PrinterConfig.model_validate(table)


def test_a_config_builds_the_real_printer_with_its_timeouts() -> None:
    printer = build_printer(PrinterConfig.model_validate(TABLE))
    assert isinstance(printer, EscposPrinter)
    assert printer.columns == 48
    printer.close()


def test_a_simulated_printer_renders_each_receipt_to_a_png(tmp_path: Path) -> None:
    config = PrinterConfig(transport="simulated", out_dir=tmp_path)
    printer = build_printer(config, kind=lambda _elements: "receipt")
    assert isinstance(printer, SimulatedPrinter)

    printer.print_elements([Line("Halo", "center", "tall"), QrCode("ABCD-1234"), Cut()])

    [png] = tmp_path.glob("receipt-*.png")
    assert png.name == "receipt-0001.png"
    [code] = zxingcpp.read_barcodes(Image.open(png))
    assert code.text == "ABCD-1234"
