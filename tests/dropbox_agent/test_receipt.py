"""Deposit slips: the text people read, the ESC/POS bytes, and printer failures."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from dropbox_agent.adapters.receipt import EscposPrinter, is_usable, render_slip
from dropbox_agent.config import PrinterConfig
from dropbox_agent.domain.text import slip_lines
from dropbox_agent.errors import PrinterError
from receipts import PaperStatus, QrCode, fit, lines_of

LINES = slip_lines(
    deposit_no=42,
    box_id="dropbox-1",
    when="22-06-2020 10:15",
    code="7QX2-M9AB",
    booking_ref="BK-7QX2M9",
    box_full=True,
)


def test_the_slip_says_number_code_and_next_step_in_bahasa_first() -> None:
    text = lines_of(LINES)
    assert text[0] == "TANDA TERIMA TITIPAN"
    assert "No. 000042" in text
    assert "Booking     : BK-7QX2M9" in text
    assert QrCode("7QX2-M9AB") in LINES
    assert "Titipan berikutnya: ke loket." in text
    assert all(content.isascii() for content in text)


def test_the_slip_fits_58_mm_paper_without_splitting_a_word() -> None:
    fitted = lines_of(fit(LINES, 32))
    assert all(len(line) <= 32 for line in fitted)
    words = {word for line in lines_of(LINES) for word in line.split()}
    assert {word for line in fitted for word in line.split()} <= words


def test_rendered_bytes_start_with_init_carry_a_native_qr_and_end_with_a_cut() -> None:
    data = render_slip(LINES)
    assert data.startswith(b"\x1b@")
    assert b"TANDA TERIMA TITIPAN" in data
    assert b"\x1d(k" in data  # GS ( k: the printer draws the QR code
    assert data.rstrip(b"\n").endswith((b"\x1dV\x00", b"\x1dVA\x00", b"\x1dV\x01", b"\x1dVB\x00"))
    assert len(data) < 2000
    assert is_usable()[0]


def test_a_file_printer_gets_exactly_the_rendered_bytes(tmp_path: Path) -> None:
    device = tmp_path / "lp0"
    printer = EscposPrinter(PrinterConfig(enabled=True, target=str(device)))
    printer.print_slip(LINES)
    printer.close()
    assert device.read_bytes() == render_slip(LINES)
    assert printer.status() is PaperStatus.UNKNOWN  # a device node cannot answer


def test_an_unreachable_printer_is_an_offline_error_naming_where(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "lp0"
    with pytest.raises(PrinterError, match="no-such-dir/lp0") as caught:
        EscposPrinter(PrinterConfig(enabled=True, target=str(missing))).print_slip(LINES)
    assert caught.value.code == "offline"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: connection refused
        config = PrinterConfig(
            enabled=True, transport="network", target=f"127.0.0.1:{port}", print_timeout_s=1
        )
        with pytest.raises(PrinterError, match=f"127.0.0.1:{port}"):
            EscposPrinter(config).print_slip(LINES)


def test_a_network_printer_receives_the_slip() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        config = PrinterConfig(
            enabled=True, transport="network", target=f"127.0.0.1:{server.getsockname()[1]}"
        )
        printer = EscposPrinter(config)
        printer.print_slip(LINES)
        printer.close()
        conn, _ = server.accept()
        with conn:
            received = b""
            while chunk := conn.recv(65536):
                received += chunk
    assert received == render_slip(LINES)


def test_the_keys_of_earlier_versions_still_load() -> None:
    """GIVEN a dropbox config written for the old slip printer WHEN loaded THEN it is the same
    printer in the shared ``[printer]`` shape."""
    old_file = PrinterConfig.model_validate(
        {"enabled": True, "connection": "file", "device_path": "/dev/usb/lp1", "timeout_s": 3}
    )
    assert (old_file.transport, old_file.target, old_file.print_timeout_s) == (
        "file",
        "/dev/usb/lp1",
        3,
    )
    old_network = PrinterConfig.model_validate(
        {"enabled": True, "connection": "network", "host": "10.0.0.5", "port": 9101}
    )
    assert (old_network.transport, old_network.target) == ("network", "10.0.0.5:9101")
    with pytest.raises(ValueError, match=r"needs printer\.target"):
        PrinterConfig.model_validate({"enabled": True, "connection": "network"})


def test_a_disabled_printer_needs_no_target_and_the_default_is_the_usb_device_node() -> None:
    assert PrinterConfig(transport="network", target="").enabled is False
    assert (PrinterConfig().transport, PrinterConfig().target) == ("file", "/dev/usb/lp0")
