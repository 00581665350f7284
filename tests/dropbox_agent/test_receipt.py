"""Deposit slips: the text people read, the ESC/POS bytes, and printer failures."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from dropbox_agent.adapters.receipt import EscposPrinter, is_usable, render_slip
from dropbox_agent.config import PrinterConfig
from dropbox_agent.domain.text import slip_lines
from dropbox_agent.errors import PrinterError

LINES = slip_lines(
    deposit_no=42,
    box_id="dropbox-1",
    when="22-06-2020 10:15",
    code="7QX2-M9AB",
    booking_ref="BK-7QX2M9",
    box_full=True,
)


def test_the_slip_says_number_code_and_next_step_in_bahasa_first() -> None:
    text = [content for _, content in LINES]
    assert text[0] == "TANDA TERIMA TITIPAN"
    assert "No. 000042" in text
    assert "Booking     : BK-7QX2M9" in text
    assert ("qr", "7QX2-M9AB") in LINES
    assert "Titipan berikutnya: ke loket." in text
    assert all(content.isascii() for content in text)


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
    EscposPrinter(PrinterConfig(enabled=True, device_path=device)).print_slip(LINES)
    assert device.read_bytes() == render_slip(LINES)


def test_an_unreachable_printer_is_an_offline_error_naming_where(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "lp0"
    with pytest.raises(PrinterError, match="no-such-dir/lp0") as caught:
        EscposPrinter(PrinterConfig(enabled=True, device_path=missing)).print_slip(LINES)
    assert caught.value.code == "offline"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: connection refused
        config = PrinterConfig(
            enabled=True, connection="network", host="127.0.0.1", port=port, timeout_s=1
        )
        with pytest.raises(PrinterError, match=f"127.0.0.1:{port}"):
            EscposPrinter(config).print_slip(LINES)


def test_a_network_printer_receives_the_slip() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        config = PrinterConfig(
            enabled=True, connection="network", host="127.0.0.1", port=server.getsockname()[1]
        )
        EscposPrinter(config).print_slip(LINES)
        conn, _ = server.accept()
        with conn:
            received = b""
            while chunk := conn.recv(65536):
                received += chunk
    assert received == render_slip(LINES)
