"""A serial ESC/POS printer on a pseudo-terminal, built as `kiosk run` builds it (issue 10).

The far side of the pseudo-terminal plays the printer: it answers DLE EOT status queries at
once (or never) and keeps every other byte it is sent, so python-escpos's real `Serial`
transport and pyserial do the talking.
"""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.config import KioskConfig
from kiosk.devices import build_printer
from kiosk.domain.events import TICKET
from kiosk.ports import PaperStatus, TicketPrinter
from kiosk.sim.demo import demo_config
from receipts import Cut, Line
from tests.kiosk.rig import _ISSUER, make_rig

STATUS_QUERY = b"\x10\x04"  # DLE EOT n
CUT = b"\x1dV"  # GS V: one per ticket


class PtyPrinter:
    """The printer's side of a pseudo-terminal.

    Args:
        replies: the status byte for each DLE EOT n; None never answers at all.
    """

    def __init__(self, replies: dict[int, bytes] | None) -> None:
        self.master, self._slave = os.openpty()
        self.path = os.ttyname(self._slave)
        self.replies = replies
        self.received = bytearray()
        self.queries: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="pty-printer", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        pending = b""
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                if self._stop.is_set():  # only once all the kiosk wrote before close() is read
                    return
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # the kiosk side closed the port
                return
            self.received += chunk
            pending += chunk
            while (at := pending.find(STATUS_QUERY)) >= 0 and at + 2 < len(pending):
                n = pending[at + 2]
                self.queries.append(n)
                pending = pending[at + 3 :]
                if self.replies is not None:
                    os.write(self.master, self.replies.get(n, b"\x12"))

    @property
    def tickets(self) -> int:
        return bytes(self.received).count(CUT)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        os.close(self.master)
        os.close(self._slave)


def serial_config(directory: Path, pty: PtyPrinter, **printer: object) -> KioskConfig:
    """The demo kiosk's config with `[printer]` on the pseudo-terminal (defaults otherwise)."""
    return demo_config(
        directory,
        _ISSUER,
        printer={"transport": "serial", "target": f"{pty.path}@19200", **printer},
        thermometer={"source": "simulated"},
    )


@pytest.fixture
def answering() -> Iterator[PtyPrinter]:
    pty = PtyPrinter({1: b"\x12", 4: b"\x12"})  # online, paper adequate
    yield pty
    pty.close()


@pytest.fixture
def silent() -> Iterator[PtyPrinter]:
    pty = PtyPrinter(None)
    yield pty
    pty.close()


def closing(printer: TicketPrinter) -> None:
    close = getattr(printer, "close", None)
    if close is not None:
        close()


def test_the_kiosk_builds_its_serial_printer_with_the_port_and_its_timeouts(
    tmp_path: Path, answering: PtyPrinter
) -> None:
    config = serial_config(tmp_path, answering)
    printer = build_printer(config)
    try:
        assert printer.status() is PaperStatus.OK
    finally:
        closing(printer)
    assert answering.queries == [1, 4]  # printer status, then the roll paper sensor


def test_a_printer_that_answers_status_at_once_prints_every_ticket(
    tmp_path: Path, answering: PtyPrinter
) -> None:
    """GIVEN a serial printer that answers status at once, built as `kiosk run` builds it
    WHEN three people check in one after another
    THEN three tickets reach the printer, each after a status read that said "ok"."""
    printer = build_printer(serial_config(tmp_path / "cfg", answering))
    rig = make_rig(tmp_path, printer=printer)
    try:
        for _ in range(3):
            rig.walkin("JHT")
            rig.next_participant()
    finally:
        rig.close()
        closing(printer)

    tickets = rig.events.of(TICKET)
    assert [t["delivery"] for t in tickets] == ["printed"] * 3
    assert [t["printer_status"] for t in tickets] == ["ok"] * 3
    assert answering.tickets == 3
    assert rig.engine.faults.get("printer") is None


def test_a_printer_that_never_answers_status_is_unknown_and_still_prints(
    tmp_path: Path, silent: PtyPrinter
) -> None:
    printer = build_printer(serial_config(tmp_path / "cfg", silent, status_timeout_s=0.2))
    rig = make_rig(tmp_path, printer=printer)
    try:
        for _ in range(2):
            rig.walkin("JKK")
            rig.next_participant()
    finally:
        rig.close()
        closing(printer)

    tickets = rig.events.of(TICKET)
    assert [t["delivery"] for t in tickets] == ["printed"] * 2
    assert [t["printer_status"] for t in tickets] == ["unknown"] * 2
    assert silent.tickets == 2


def test_a_late_answer_is_not_taken_for_the_next_query(tmp_path: Path) -> None:
    """A printer that answers after the status read gave up: that reply is dropped, not read
    as the answer to the next question."""
    pty = PtyPrinter(None)
    printer = build_printer(serial_config(tmp_path, pty, status_timeout_s=0.2))
    try:
        assert printer.status() is PaperStatus.UNKNOWN
        os.write(pty.master, b"\x1a")  # a late "offline" for the first query
        pty.replies = {1: b"\x12", 4: b"\x72"}  # now online, paper out
        assert printer.status() is PaperStatus.OUT
        printer.print_elements([Line("Halo"), Cut()])
    finally:
        closing(printer)
        pty.close()
    assert b"Halo" in pty.received
