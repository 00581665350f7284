"""Receipt printing through python-escpos (imported only here): layout elements -> ESC/POS bytes.

Every layout element is written once, onto any `escpos.Escpos` (Dummy for golden bytes and the
simulator, USB/serial/network/file for a real printer). Text sizes use ``GS !`` only, so each
line states its own size and nothing leaks from the line before.

Status reads run in a worker thread with a timeout: a USB read can block until the printer is
unplugged (python-escpos #143), and an empty reply means "unknown", never "paper OK".
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable, Sequence
from typing import Any, Literal

from kiosk.domain.tickets import Cut, Element, Feed, QrCode, Rule, Text
from kiosk.errors import PrinterError
from kiosk.ports import PaperStatus

logger = logging.getLogger(__name__)

Transport = Literal["usb", "serial", "network", "file"]
_SIZES = {"normal": 1, "double": 2, "big": 3}
# DLE EOT n real-time status (ESC/POS): n=1 printer status, n=4 roll paper sensor status.
STATUS_PRINTER = b"\x10\x04\x01"
STATUS_PAPER = b"\x10\x04\x04"


def write_elements(printer: Any, elements: Sequence[Element], *, columns: int = 32) -> None:
    """Write `elements` onto an `escpos.Escpos` printer object."""
    from escpos.constants import QR_ECLEVEL_M

    printer.hw("INIT")
    for element in elements:
        if isinstance(element, Text):
            size = _SIZES[element.size]
            printer.set(
                align=element.align, bold=element.bold, custom_size=True, width=size, height=size
            )
            printer.textln(element.text)
        elif isinstance(element, QrCode):
            # qr(native=True, center=True) raises: centre with set(align=...) first.
            printer.set(align="center")
            printer.qr(element.content, ec=QR_ECLEVEL_M, size=element.module_px, native=True)
            printer.ln()
        elif isinstance(element, Rule):
            printer.set(align="left", bold=False, custom_size=True, width=1, height=1)
            printer.textln("-" * columns)
        elif isinstance(element, Feed):
            printer.ln(element.lines)
        elif isinstance(element, Cut):
            printer.cut()


def ticket_bytes(elements: Sequence[Element], *, columns: int = 32) -> bytes:
    """The ESC/POS bytes of a layout (python-escpos `Dummy`)."""
    from escpos.printer import Dummy

    dummy = Dummy()
    write_elements(dummy, elements, columns=columns)
    output: bytes = dummy.output
    return output


def decode_paper_status(reply: bytes) -> PaperStatus:
    """Interpret the reply to DLE EOT 4 (roll paper sensor). Empty means unknown."""
    if not reply:
        return PaperStatus.UNKNOWN
    byte = reply[0]
    if byte & 0x60 == 0x60:  # bits 5-6: roll paper end sensor, paper not present
        return PaperStatus.OUT
    if byte & 0x0C == 0x0C:  # bits 2-3: roll paper near-end sensor
        return PaperStatus.LOW
    return PaperStatus.OK


def decode_online(reply: bytes) -> bool | None:
    """Interpret the reply to DLE EOT 1. None when the printer did not answer."""
    if not reply:
        return None
    return not reply[0] & 0x08  # bit 3 set: offline


def is_usable(transport: Transport, target: str) -> tuple[bool, str]:
    """Whether python-escpos supports the transport here (the printer itself is probed by
    `EscposPrinter.status()`)."""
    try:
        from escpos import printer
    except ImportError as exc:
        return False, f"python-escpos is missing: {exc}"
    cls = {"usb": "Usb", "serial": "Serial", "network": "Network", "file": "File"}[transport]
    usable = getattr(printer, cls).is_usable()
    if not usable:
        return False, f"python-escpos {cls} transport lacks its library (pyusb or pyserial)"
    return True, f"{transport} transport to {target} available"


def open_printer(transport: Transport, target: str, *, io_timeout_s: float = 2.0) -> Any:
    """An opened python-escpos printer.

    `target`: ``usb`` ``"04b8:0e15"`` (vendor:product, hex); ``serial`` ``"/dev/ttyUSB0"`` or
    ``"/dev/ttyUSB0@19200"``; ``network`` ``"192.168.1.50"`` or ``"host:9100"``; ``file``
    ``"/dev/usb/lp0"`` (write-only: status reads answer nothing, so they read as unknown).
    """
    from escpos import printer

    if transport == "usb":
        vendor, product = (int(part, 16) for part in target.split(":"))
        return printer.Usb(vendor, product, timeout=int(io_timeout_s * 1000))
    if transport == "serial":
        device, _, baud = target.partition("@")
        return printer.Serial(device, baudrate=int(baud or 19200), timeout=io_timeout_s)
    if transport == "network":
        host, _, port = target.partition(":")
        return printer.Network(host, port=int(port or 9100), timeout=io_timeout_s)
    return printer.File(target)


class EscposPrinter:
    """A `TicketPrinter` on a real printer, every device call bounded by a timeout.

    Args:
        connect: opens the python-escpos printer (see `open_printer`); called lazily and again
            after a failure.
        columns: characters per line in font A (32 on 58 mm paper, 48 on 80 mm).
        status_timeout_s: longest wait for a status reply.
        print_timeout_s: longest wait for a ticket to be written.
        can_read: False for write-only transports (file): status is then always unknown.
    """

    def __init__(
        self,
        connect: Callable[[], Any],
        *,
        columns: int = 32,
        status_timeout_s: float = 1.0,
        print_timeout_s: float = 5.0,
        can_read: bool = True,
    ) -> None:
        self._connect = connect
        self._device: Any = None
        self.columns = columns
        self._status_timeout = status_timeout_s
        self._print_timeout = print_timeout_s
        self._can_read = can_read
        # One worker: if a call hangs, later calls find it busy and fail fast instead of piling up.
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="printer")
        self._busy: concurrent.futures.Future[Any] | None = None

    def status(self) -> PaperStatus:
        if not self._can_read:
            return PaperStatus.UNKNOWN
        try:
            online, paper = self._call(self._read_status, self._status_timeout)
        except PrinterError as exc:
            logger.warning("printer status: %s", exc)
            return PaperStatus.OFFLINE if exc.code == "offline" else PaperStatus.UNKNOWN
        if online is False:
            return PaperStatus.OFFLINE
        return paper if isinstance(paper, PaperStatus) else PaperStatus.UNKNOWN

    def print_elements(self, elements: Sequence[Element]) -> None:
        data = ticket_bytes(elements, columns=self.columns)
        self._call(lambda: self._device_or_open()._raw(data), self._print_timeout)

    def close(self) -> None:
        if self._device is not None:
            try:
                self._device.close()
            except Exception:  # closing a dead printer is best effort
                logger.exception("printer close failed")
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _device_or_open(self) -> Any:
        if self._device is None:
            self._device = self._connect()
        return self._device

    def _read_status(self) -> tuple[bool | None, PaperStatus]:
        device = self._device_or_open()
        online = decode_online(_query(device, STATUS_PRINTER))
        paper = decode_paper_status(_query(device, STATUS_PAPER))
        return online, paper

    def _call(self, fn: Callable[[], Any], timeout: float) -> Any:
        if self._busy is not None and not self._busy.done():
            raise PrinterError("the printer is still busy with an earlier call (hung?)", "hung")
        future = self._pool.submit(fn)
        self._busy = future
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise PrinterError(
                f"the printer did not answer within {timeout:g} s; check power and cable",
                "timeout",
            ) from None
        except PrinterError:
            raise
        except Exception as exc:  # any transport error (usb.core, serial, socket) means offline
            self._device = None  # reconnect next time
            raise PrinterError(
                f"printer unreachable: {exc}; check power, cable and printer.target", "offline"
            ) from exc


def _query(device: Any, command: bytes) -> bytes:
    """One real-time status query; no answer (a read timeout, a transport that cannot read) is an
    empty reply, which the decoders read as unknown. Other errors mean the printer is gone."""
    try:
        return bytes(device.query_status(command))
    except (TimeoutError, NotImplementedError):
        return b""
    except Exception as exc:
        if "Timeout" in type(exc).__name__:  # pyusb's USBTimeoutError is not a TimeoutError
            return b""
        raise
