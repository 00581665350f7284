"""Receipts through python-escpos (imported only here): elements -> ESC/POS bytes -> a printer.

Every layout element is written once, onto any `escpos.Escpos` (Dummy for golden bytes and the
simulator, USB/serial/network/file for a real printer). Text sizes use ``GS !`` only, so each
line states its own size and nothing leaks from the line before.

Status reads run in a worker thread of their own with a timeout: a USB read can block until the
printer is unplugged (python-escpos #143), and an empty reply means "unknown", never "paper OK".
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import select
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

from receipts.config import PrinterConfig
from receipts.elements import SCALE, Cut, Element, Feed, Line, QrCode, Rule
from receipts.errors import PrinterError
from receipts.status import PaperStatus

logger = logging.getLogger(__name__)

Transport = Literal["usb", "serial", "network", "file"]
QUIET_MODULES = 4
LINE_DOTS = 24  # the height of one font A line feed, at the least
# DLE EOT n real-time status (ESC/POS): n=1 printer status, n=4 roll paper sensor status.
STATUS_PRINTER = b"\x10\x04\x01"
STATUS_PAPER = b"\x10\x04\x04"


def write_elements(printer: Any, elements: Sequence[Element], *, columns: int = 32) -> None:
    """Write `elements` onto an `escpos.Escpos` printer object."""
    from escpos.constants import QR_ECLEVEL_M

    printer.hw("INIT")
    for element in elements:
        if isinstance(element, Line):
            width, height = SCALE[element.size]
            printer.set(
                align=element.align, bold=element.bold, custom_size=True, width=width, height=height
            )
            printer.textln(element.text)
        elif isinstance(element, QrCode):
            # The QR standard's quiet zone: 4 modules of blank paper all round. Sideways the
            # centred code has the paper's margins; above and below, blank lines of 24 dots.
            quiet_lines = -(-QUIET_MODULES * element.module_px // LINE_DOTS)
            printer.ln(quiet_lines)
            # qr(native=True, center=True) raises: centre with set(align=...) first.
            printer.set(align="center")
            printer.qr(element.content, ec=QR_ECLEVEL_M, size=element.module_px, native=True)
            printer.ln(quiet_lines)
        elif isinstance(element, Rule):
            printer.set(align="left", bold=False, custom_size=True, width=1, height=1)
            printer.textln("-" * columns)
        elif isinstance(element, Feed):
            printer.ln(element.lines)
        elif isinstance(element, Cut):
            printer.cut()


def escpos_bytes(elements: Sequence[Element], *, columns: int = 32) -> bytes:
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
        return _network_class()(host, port=int(port or 9100), timeout=io_timeout_s)
    return printer.File(target)


@functools.cache
def _network_class() -> Any:
    """python-escpos's `Network`, opened so that a refused connection closes its socket.

    Its own `open()` drops the socket unclosed when `connect` fails (a ResourceWarning each
    retry while the printer is away); `socket.create_connection` closes it.
    """
    from escpos.printer import Network

    class ClosingNetwork(Network):  # type: ignore[misc]
        def open(self, raise_not_found: bool = True) -> None:
            if self._device:
                self.close()
            self.device = socket.create_connection((self.host, self.port), self.timeout)

    return ClosingNetwork


def connect(config: PrinterConfig) -> EscposPrinter:
    """The real printer `config` names (not simulated), opened lazily at its first use.

    Raises:
        ValueError: ``transport = "simulated"`` (use `receipts.SimulatedPrinter`).
    """
    transport = config.transport
    if transport == "simulated":
        raise ValueError("a simulated printer is not an ESC/POS device: use SimulatedPrinter")
    return EscposPrinter(
        lambda: open_printer(transport, config.target, io_timeout_s=config.print_timeout_s),
        columns=config.columns,
        status_timeout_s=config.status_timeout_s,
        print_timeout_s=config.print_timeout_s,
        can_read=transport != "file",
        where=f"{transport} {config.target}",
    )


class EscposPrinter:
    """A `ReceiptPrinter` on a real printer, every device call bounded by a timeout.

    Status reads and prints run on two workers of their own: a status read that hangs (a USB
    read can block until unplug) never keeps a ticket from being printed, and a print that hangs
    never piles up more prints behind it (later calls find the worker busy and fail fast).
    Each status reply is awaited at most `status_timeout_s` in all (python-escpos's own read
    waits for 16 bytes, that is the port's whole timeout, though a reply is one byte), so a
    printer that answers prints at once and one that does not is "unknown" and still prints.

    Args:
        connect: opens the python-escpos printer (see `open_printer`); called lazily and again
            after a failure.
        columns: characters per line in font A (32 on 58 mm paper, 48 on 80 mm).
        status_timeout_s: longest wait for a status reply (both queries together).
        print_timeout_s: longest wait for a ticket to be written.
        can_read: False for write-only transports (file): status is then always unknown.
        where: how the printer is reached, for error messages (e.g. ``"network 10.0.0.5:9100"``).
    """

    def __init__(
        self,
        connect: Callable[[], Any],
        *,
        columns: int = 32,
        status_timeout_s: float = 1.0,
        print_timeout_s: float = 5.0,
        can_read: bool = True,
        where: str = "the printer",
    ) -> None:
        self._connect = connect
        self._device: Any = None
        self._device_lock = threading.Lock()
        self.columns = columns
        self._status_timeout = status_timeout_s
        self._print_timeout = print_timeout_s
        self._can_read = can_read
        self._printing = _Worker("printer", where)
        self._asking = _Worker("printer-status", where)

    def status(self) -> PaperStatus:
        if not self._can_read:
            return PaperStatus.UNKNOWN
        # Replies are read with a little less than the caller's patience, so an unanswered
        # query frees the status worker by itself before the next status call.
        budget = self._status_timeout * 0.8
        try:
            online, paper = self._asking.call(
                lambda: self._read_status(budget), self._status_timeout
            )
        except PrinterError as exc:
            logger.warning("printer status: %s", exc)
            return PaperStatus.OFFLINE if exc.code == "offline" else PaperStatus.UNKNOWN
        if online is False:
            return PaperStatus.OFFLINE
        return paper if isinstance(paper, PaperStatus) else PaperStatus.UNKNOWN

    def print_elements(self, elements: Sequence[Element]) -> None:
        data = escpos_bytes(elements, columns=self.columns)
        self._printing.call(lambda: self._write(data), self._print_timeout)

    def close(self) -> None:
        with self._device_lock:
            device, self._device = self._device, None
        if device is not None:
            try:
                device.close()
            except Exception:  # closing a dead printer is best effort
                logger.exception("printer close failed")
        self._printing.shutdown()
        self._asking.shutdown()

    def _device_or_open(self) -> Any:
        with self._device_lock:  # both workers may ask for it first
            if self._device is None:
                self._device = self._connect()
            return self._device

    def _read_status(self, budget_s: float) -> tuple[bool | None, PaperStatus]:
        device = self._device_or_open()
        deadline = time.monotonic() + budget_s
        try:
            online = decode_online(_query(device, STATUS_PRINTER, budget_s / 2))
            left = max(0.0, deadline - time.monotonic())
            paper = decode_paper_status(_query(device, STATUS_PAPER, left))
        except Exception:
            self._forget(device)
            raise
        return online, paper

    def _forget(self, device: Any) -> None:
        """Drop a connection that failed, so the next call opens a fresh one."""
        with self._device_lock:
            if self._device is device:
                self._device = None

    def _write(self, data: bytes) -> None:
        device = self._device_or_open()
        try:
            device._raw(data)
        except Exception:
            self._forget(device)
            raise


class _Worker:
    """One thread running device calls one at a time, each awaited at most a timeout."""

    def __init__(self, name: str, where: str) -> None:
        self._where = where
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=name)
        self._busy: concurrent.futures.Future[Any] | None = None

    def call(self, fn: Callable[[], Any], timeout: float) -> Any:
        """Run `fn` on the worker; transport errors become `PrinterError("offline")`.

        Raises:
            PrinterError: ``hung`` (an earlier call has not returned), ``timeout``, ``offline``.
        """
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
            raise PrinterError(
                f"printer at {self._where} unreachable ({exc}); check power, cable, paper and "
                "printer.target",
                "offline",
            ) from exc

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _query(device: Any, command: bytes, timeout_s: float) -> bytes:
    """One real-time status query answered within `timeout_s`, else an empty reply (which the
    decoders read as unknown). Transport errors propagate: the printer is gone."""
    read = _bounded_reader(device)
    if read is None:  # another python-escpos printer (a test double): its own query
        try:
            return bytes(device.query_status(command))
        except (TimeoutError, NotImplementedError):
            return b""
    read(0.0)  # drop a late answer to an earlier query, so it is not taken for this one
    device._raw(command)
    return read(timeout_s)


def _bounded_reader(device: Any) -> Callable[[float], bytes] | None:
    """A read of whatever the printer has sent, waiting at most the given seconds.

    python-escpos's `_read` asks for 16 bytes: serial waits the port's whole timeout for them,
    network and USB the connection's. A real-time status reply is one byte.
    """
    from escpos import printer

    if isinstance(device, printer.Serial):
        port = device.device

        def read_serial(timeout_s: float) -> bytes:
            if not _readable(port.fileno(), timeout_s):
                return b""
            return bytes(port.read(port.in_waiting or 1))

        return read_serial
    if isinstance(device, printer.Network):
        sock = device.device

        def read_socket(timeout_s: float) -> bytes:
            if not _readable(sock.fileno(), timeout_s):
                return b""
            reply = bytes(sock.recv(16))
            if not reply:
                raise ConnectionError("the printer closed the connection")
            return reply

        return read_socket
    if isinstance(device, printer.Usb):
        usb_device, endpoint = device.device, device.in_ep

        def read_usb(timeout_s: float) -> bytes:
            try:  # pyusb takes whole milliseconds; 0 would mean "its default"
                return bytes(usb_device.read(endpoint, 16, max(1, round(timeout_s * 1000))))
            except Exception as exc:
                if "Timeout" in type(exc).__name__:  # pyusb's USBTimeoutError
                    return b""
                raise

        return read_usb
    return None


def _readable(fileno: int, timeout_s: float) -> bool:
    ready, _, _ = select.select([fileno], [], [], timeout_s)
    return bool(ready)
