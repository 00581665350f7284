"""A kiosk in its own process for the ticket-event SIGKILL tests, killed at one exact point.

    python -m tests.kiosk.kill_child DIR POINT

The kiosk's engine is wired by `kiosk.app.build_engine` over real files in DIR (the demo
config's ledger, ticket book and a real `uplink.Outbox`), a simulated thermometer and printer,
and a `ManualClock` (time is injected). POINT:

    after-ticket-event  a walk-in; the process SIGKILLs itself the moment the outbox has
                        committed its kiosk.ticket.issued (before the book marks it delivered)
    after-delivery-mark a walk-in; the process SIGKILLs itself the moment the ticket book has
                        committed the ticket's delivery (the point that lost the event once)
    mid-print           a walk-in; the process SIGKILLs itself while the ticket prints
    restart             no check-in: one tick (the start), then one JSON line on stdout:
                        the outbox's ticket events, and what the book still has printing
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.app import build_engine
from kiosk.booking import CheckinLedger
from kiosk.devices import build_simulated_printer
from kiosk.domain import events
from kiosk.sim.bookings import SimIssuer
from kiosk.sim.demo import demo_config
from kiosk.sim.driver import drive
from kiosk.sim.thermometer import SimulatedThermometer
from kiosk.store import TicketBook
from receipts import Element, PaperStatus
from uplink import ManualClock, Outbox
from uplink.messages import Envelope
from uplink.sink import EventLog

NOW = datetime(2026, 6, 15, 2, 30, tzinfo=UTC)  # Monday 09:30 WIB


def die() -> None:
    """The power cut: no handler, no flush, no cleanup."""
    os.kill(os.getpid(), signal.SIGKILL)


class DyingOutbox(Outbox):
    """The real outbox; the process dies the moment it has committed an event of `die_after`."""

    die_after: str | None = None

    def record(
        self,
        type_name: str,
        payload: Mapping[str, Any],
        *,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
    ) -> Envelope:
        envelope = super().record(type_name, payload, occurred_at=occurred_at, event_id=event_id)
        if type_name == self.die_after:
            die()
        return envelope


class DyingBook(TicketBook):
    """The real ticket book; the process dies the moment a delivery is committed."""

    die_after_delivery = False

    def mark_delivered(self, checkin_id: str, delivery: str) -> bool:
        marked = super().mark_delivered(checkin_id, delivery)
        if self.die_after_delivery:
            die()
        return marked


class DiesMidPrint:
    """A printer that has paper and loses power while printing."""

    def status(self) -> PaperStatus:
        return PaperStatus.OK

    def print_elements(self, elements: Sequence[Element]) -> None:
        die()


def tickets_in(outbox: Outbox) -> list[dict[str, Any]]:
    envelopes = [Envelope.from_json(row.body) for row in outbox.after(0, 100_000)]
    return [{"event_id": e.event_id, **e.payload} for e in envelopes if e.type == events.TICKET]


def main(directory: str, point: str) -> None:
    config = demo_config(Path(directory), SimIssuer())
    clock = ManualClock(NOW)
    outbox = DyingOutbox(config.uplink.outbox_path, config.uplink.device_id, clock=clock)
    book = DyingBook(config.tickets.book_path)
    printer: Any = build_simulated_printer(config, render=False)
    if point == "after-ticket-event":
        outbox.die_after = events.TICKET
    elif point == "after-delivery-mark":
        book.die_after_delivery = True
    elif point == "mid-print":
        printer = DiesMidPrint()
    engine = build_engine(
        config,
        clock=clock,
        thermometer=SimulatedThermometer(36.6),
        printer=printer,
        events=EventLog(outbox=outbox),
        ledger=CheckinLedger(config.booking.ledger_path),
        book=book,
    )
    engine.tick()  # the start
    if point == "restart":
        json.dump({"tickets": tickets_in(outbox), "printing": len(book.printing())}, sys.stdout)
        sys.stdout.write("\n")
        return
    engine.start_walkin()
    engine.settle()
    engine.choose_service("JHT")
    drive(engine, clock)
    sys.exit(f"the kiosk was not killed at {point}")  # the test sees this exit code


if __name__ == "__main__":
    main(*sys.argv[1:3])
