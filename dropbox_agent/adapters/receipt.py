"""Deposit slips on an ESC/POS printer (python-escpos renders the bytes; we deliver them)."""

from __future__ import annotations

import logging
import socket
from typing import Any

from dropbox_agent.config import PrinterConfig
from dropbox_agent.errors import PrinterError
from dropbox_agent.ports import SlipLines

logger = logging.getLogger(__name__)


def is_usable() -> tuple[bool, str]:
    """Whether python-escpos can be imported here."""
    try:
        from escpos.printer import Dummy  # noqa: F401
    except ImportError as exc:  # pragma: no cover - python-escpos is a dependency
        return False, f"python-escpos is not installed ({exc})"
    return True, "python-escpos available"


def render_slip(lines: SlipLines) -> bytes:
    """The ESC/POS bytes of one slip (golden-tested; the same for every transport)."""
    from escpos.printer import Dummy

    printer: Any = Dummy()
    printer.hw("INIT")
    for style, content in lines:
        if style == "qr":
            # Centre first: qr(center=True) raises with native codes.
            printer.set(align="center", normal_textsize=True)
            printer.qr(content, native=True, size=6)
            continue
        if style == "title":
            printer.set(align="center", bold=True, double_height=True, double_width=False)
        elif style == "big":
            printer.set(align="center", bold=True, double_height=True, double_width=True)
        elif style == "small":
            printer.set(align="left", font="b", bold=False, normal_textsize=True)
        else:
            printer.set(align="left", font="a", bold=False, normal_textsize=True)
        printer.textln(content)
        if style == "small":
            printer.set(font="a")
    printer.set(align="left", font="a", bold=False, normal_textsize=True)
    printer.cut()
    return bytes(printer.output)


class EscposPrinter:
    """Sends rendered slips to a USB printer's device node or a network printer (port 9100).

    Raises `PrinterError` with code ``offline`` when the printer cannot be reached; writes and
    connects have a timeout (status reads are not used: they can block until unplugged).
    """

    def __init__(self, config: PrinterConfig) -> None:
        self.config = config

    def print_slip(self, lines: SlipLines) -> None:
        data = render_slip(lines)
        cfg = self.config
        try:
            if cfg.connection == "network":
                host = cfg.host or "localhost"  # PrinterConfig requires a host for network
                with socket.create_connection((host, cfg.port), timeout=cfg.timeout_s) as s:
                    s.sendall(data)
            else:
                with open(cfg.device_path, "wb", buffering=0) as device:
                    device.write(data)
        except OSError as exc:
            where = (
                f"{cfg.host}:{cfg.port}" if cfg.connection == "network" else str(cfg.device_path)
            )
            raise PrinterError(
                f"receipt printer at {where} did not take the slip ({exc}); check its cable, "
                "power and paper",
                code="offline",
            ) from exc

    def close(self) -> None:
        """Nothing held open between slips."""
