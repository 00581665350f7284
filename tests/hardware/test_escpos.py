"""ESC/POS printing through python-escpos: golden bytes, status replies, timeouts, transports."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from escpos.printer import Dummy, Network, Usb

from receipts import Cut, Feed, Line, PaperStatus, PrinterError, QrCode, Rule
from receipts.config import PrinterConfig
from receipts.escpos_printer import (
    STATUS_PAPER,
    STATUS_PRINTER,
    EscposPrinter,
    connect,
    decode_online,
    decode_paper_status,
    escpos_bytes,
    is_usable,
    open_printer,
)

SMALL = [Line("Halo", "center", "big", True), QrCode("https://x/y?ref=1"), Rule(), Feed(2), Cut()]
GOLDEN = (
    b"\x1b@"  # ESC @ initialise
    b'\x1d!"\x1bE\x01\x1ba\x01\x1bt\x00Halo\n'  # GS ! 3x3, bold, centred, code page 0
    b"\n"  # quiet zone above: one 24-dot line is 4 modules of 6 dots
    b"\x1ba\x01"  # centre the QR code
    b"\x1d(k\x04\x001A2\x00\x1d(k\x03\x001C\x06\x1d(k\x03\x001E1"  # model 2, 6 dots, level M
    b"\x1d(k\x14\x001P0https://x/y?ref=1\x1d(k\x03\x001Q0\n"  # store, print; quiet zone
    b"\x1d!\x00\x1bE\x00\x1ba\x00" + b"-" * 32 + b"\n"  # the rule at normal size, left
    b"\n\n"  # feed 2
    b"\x1bd\x06\x1dV\x00"  # feed and cut
)


class Answering(Dummy):  # type: ignore[misc]
    """A python-escpos printer that answers status queries with set bytes."""

    def __init__(self, replies: dict[bytes, bytes] | None = None) -> None:
        super().__init__()
        self.replies = replies or {}
        self.hold: threading.Event | None = None

    def query_status(self, mode: bytes) -> bytes:
        self._raw(mode)
        if self.hold is not None:
            self.hold.wait(10)
        return self.replies.get(mode, b"")


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()  # let a deliberately hung worker finish


def test_a_layout_becomes_the_same_bytes_every_time() -> None:
    assert escpos_bytes(SMALL) == GOLDEN


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        (b"", PaperStatus.UNKNOWN),  # no answer is not "paper OK"
        (b"\x12", PaperStatus.OK),
        (b"\x1e", PaperStatus.LOW),  # near-end sensor bits 2-3
        (b"\x72", PaperStatus.OUT),  # end sensor bits 5-6
        (b"\x7e", PaperStatus.OUT),
    ],
)
def test_paper_status_replies(reply: bytes, status: PaperStatus) -> None:
    assert decode_paper_status(reply) is status


def test_online_replies() -> None:
    assert decode_online(b"") is None
    assert decode_online(b"\x12") is True
    assert decode_online(b"\x1a") is False


def test_python_escpos_reads_an_empty_reply_as_plenty_of_paper_and_we_do_not() -> None:
    silent = Answering()

    assert silent.paper_status() == 2  # python-escpos: "adequate"
    assert EscposPrinter(lambda: silent).status() is PaperStatus.UNKNOWN


@pytest.mark.parametrize(
    ("printer_reply", "paper_reply", "status"),
    [
        (b"\x12", b"\x12", PaperStatus.OK),
        (b"\x12", b"\x1e", PaperStatus.LOW),
        (b"\x12", b"\x72", PaperStatus.OUT),
        (b"\x1a", b"\x12", PaperStatus.OFFLINE),
        (b"", b"\x12", PaperStatus.OK),
        (b"\x12", b"", PaperStatus.UNKNOWN),
    ],
)
def test_status_combines_both_queries(
    printer_reply: bytes, paper_reply: bytes, status: PaperStatus
) -> None:
    device = Answering({STATUS_PRINTER: printer_reply, STATUS_PAPER: paper_reply})

    assert EscposPrinter(lambda: device).status() is status
    assert device.output == STATUS_PRINTER + STATUS_PAPER


def test_a_transport_that_cannot_read_is_unknown() -> None:
    assert EscposPrinter(Dummy).status() is PaperStatus.UNKNOWN  # Dummy._read: not implemented
    assert EscposPrinter(Dummy, can_read=False).status() is PaperStatus.UNKNOWN


def test_a_ticket_is_written_as_its_bytes() -> None:
    device = Answering()

    EscposPrinter(lambda: device).print_elements(SMALL)

    assert device.output == GOLDEN


def test_a_printer_that_cannot_be_reached_is_offline_and_reconnected_later() -> None:
    attempts: list[int] = []

    def connect() -> Answering:
        attempts.append(1)
        if len(attempts) <= 2:
            raise OSError("no such device")
        return Answering({STATUS_PRINTER: b"\x12", STATUS_PAPER: b"\x12"})

    printer = EscposPrinter(connect)

    assert printer.status() is PaperStatus.OFFLINE
    with pytest.raises(PrinterError) as raised:
        printer.print_elements(SMALL)
    assert raised.value.code == "offline"
    assert "printer.target" in str(raised.value)
    assert printer.status() is PaperStatus.OK  # plugged back in: a fresh connection
    assert len(attempts) == 3


def test_a_hung_status_read_is_unknown_and_never_holds_the_ticket(
    release: threading.Event,
) -> None:
    device = Answering({STATUS_PRINTER: b"\x12", STATUS_PAPER: b"\x12"})
    device.hold = release
    printer = EscposPrinter(lambda: device, status_timeout_s=0.05, print_timeout_s=5.0)

    assert printer.status() is PaperStatus.UNKNOWN
    assert printer.status() is PaperStatus.UNKNOWN  # still hung: no second query piles up
    printer.print_elements(SMALL)  # the printing worker is not the one that hangs

    assert device.output == STATUS_PRINTER + GOLDEN
    release.set()
    printer.close()


def test_a_hung_print_times_out_and_later_prints_fail_fast(release: threading.Event) -> None:
    class Stuck(Answering):
        def _raw(self, msg: bytes) -> None:
            release.wait(10)
            super()._raw(msg)

    printer = EscposPrinter(Stuck, status_timeout_s=0.05, print_timeout_s=0.05)

    with pytest.raises(PrinterError) as raised:
        printer.print_elements(SMALL)
    assert raised.value.code == "timeout"
    with pytest.raises(PrinterError) as raised:
        printer.print_elements(SMALL)
    assert raised.value.code == "hung"

    release.set()
    printer.close()


def test_transports_are_opened_from_the_config_target() -> None:
    network = open_printer("network", "192.0.2.7:9100", io_timeout_s=1.5)
    assert isinstance(network, Network)
    assert (network.host, network.port, network.timeout) == ("192.0.2.7", 9100, 1.5)
    assert open_printer("file", "/dev/usb/lp0").devfile == "/dev/usb/lp0"
    ok, why = is_usable("network", "192.0.2.7:9100")
    assert ok, why


def test_usb_and_serial_say_what_they_lack() -> None:
    for transport in ("usb", "serial"):
        ok, why = is_usable(transport, "x")  # type: ignore[arg-type]
        assert ok or "pyusb or pyserial" in why


class StatusServer:
    """A network printer on loopback: answers DLE EOT n (or stays silent), keeps what it gets."""

    def __init__(self, reply: bytes | None) -> None:
        self.reply = reply
        self.received = bytearray()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        conn, _ = self._server.accept()
        with conn:
            while chunk := conn.recv(4096):
                self.received += chunk
                if self.reply is not None:
                    conn.sendall(self.reply * chunk.count(b"\x10\x04"))

    def close(self) -> None:
        self._server.close()
        self._thread.join(2)


@pytest.mark.parametrize(
    ("reply", "status"), [(b"\x12", PaperStatus.OK), (None, PaperStatus.UNKNOWN)]
)
def test_a_network_printer_is_asked_within_the_status_timeout_and_still_prints(
    reply: bytes | None, status: PaperStatus
) -> None:
    server = StatusServer(reply)
    config = PrinterConfig(
        transport="network", target=f"127.0.0.1:{server.port}", status_timeout_s=0.2
    )
    printer = connect(config)
    try:
        assert printer.status() is status
        printer.print_elements(SMALL)
    finally:
        printer.close()
        server.close()
    assert bytes(server.received) == STATUS_PRINTER + STATUS_PAPER + GOLDEN


def test_a_usb_status_read_is_given_its_timeout_and_a_usb_timeout_is_unknown() -> None:
    class USBTimeoutError(Exception):  # pyusb's name; not a TimeoutError
        pass

    class FakeUsbDevice:
        def __init__(self) -> None:
            self.reads: list[int] = []
            self.written = b""

        def write(self, endpoint: int, data: bytes, timeout: int) -> int:
            self.written += data
            return len(data)

        def read(self, endpoint: int, size: int, timeout: int) -> bytes:
            self.reads.append(timeout)
            raise USBTimeoutError("Operation timed out")

    usb = Usb(0x0416, 0x5011, timeout=1000)  # python-escpos opens lazily: nothing found yet
    device = FakeUsbDevice()
    usb._device = device

    try:
        assert EscposPrinter(lambda: usb, status_timeout_s=0.5).status() is PaperStatus.UNKNOWN
    finally:
        usb._device = False  # nothing for python-escpos to release at garbage collection
    assert device.reads and all(0 < ms <= 400 for ms in device.reads)  # never pyusb's default
    assert STATUS_PRINTER in device.written
