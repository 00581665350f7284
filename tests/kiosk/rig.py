"""The kiosk rig: a kiosk engine on simulated devices, a manual clock and real SQLite files, and
the kiosk loop around it; their fixtures `rig` and `kiosk` (a plugin of tests/conftest.py, so the
security tests share them)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypedDict, Unpack, cast

import pytest

from kiosk.app import build, build_engine
from kiosk.booking import Channel, CheckinLedger, Service
from kiosk.config import KioskConfig
from kiosk.devices import build_simulated_printer
from kiosk.domain.screens import Phase, Screen
from kiosk.engine import CheckinEngine, VerifyTypedCode
from kiosk.ports import Thermometer, TicketPrinter, Verifier
from kiosk.runtime import Kiosk
from kiosk.sim.bookings import SimIssuer
from kiosk.sim.camera import ScriptedCamera
from kiosk.sim.demo import DEMO_BRANCH, demo_config
from kiosk.sim.driver import drive
from kiosk.sim.thermometer import SimulatedThermometer
from kiosk.store import TicketBook
from receipts.sim import SimulatedPrinter
from uplink import Clock, ManualClock
from uplink.sink import EventLog, EventSink

# Monday 15 June 2026, 09:30 WIB: inside the 09:00-10:00 slot the tokens below are for.
NOW = datetime(2026, 6, 15, 2, 30, tzinfo=UTC)

_ISSUER = SimIssuer()  # key generation is the slow part: one issuer for the whole session


class Ports(TypedDict, total=False):
    """`kiosk.app.build_engine`'s ports, any of which `Rig.engine_with` takes instead of the
    rig's own (mypy checks both ends: a port `build_engine` does not take, or of another type,
    is an error where a test passes it)."""

    clock: Clock
    thermometer: Thermometer
    printer: TicketPrinter
    events: EventSink
    ledger: CheckinLedger
    book: TicketBook
    verifier: Verifier | None
    lookup: VerifyTypedCode | None
    refresh: VerifyTypedCode | None
    data_age: Callable[[], tuple[str, str]] | None
    background: Callable[[Callable[[], None]], None] | None


@dataclass
class Rig:
    """One kiosk under test. `restart()` builds a new engine over the same files, `engine_with()`
    one with other ports."""

    directory: Path
    config: KioskConfig
    issuer: SimIssuer
    clock: ManualClock
    thermometer: SimulatedThermometer
    printer: SimulatedPrinter
    events: EventLog
    ledger: CheckinLedger
    book: TicketBook
    screens: list[Screen] = field(default_factory=list)
    engine: CheckinEngine = field(init=False)  # `engine_with` builds it

    def token(
        self,
        booking_id: str = "B0000001",
        *,
        branch: str = DEMO_BRANCH,
        service: Service = "JHT",
        channel: Channel = "online",
        party_size: int = 1,
        slot_start: datetime | None = None,
    ) -> str:
        zone = self.config.booking.zone
        start = slot_start or NOW.astimezone(zone).replace(minute=0, second=0, microsecond=0)
        return self.issuer.issue(
            booking_id,
            branch=branch,
            slot_start=start,
            zone=zone,
            service=service,
            channel=channel,
            party_size=party_size,
            issued_at=start - timedelta(days=1),
        )

    def checkin(self, text: str) -> Screen:
        """Scan `text` and run the flow to its end on the manual clock."""
        self.engine.scan(text)
        drive(self.engine, self.clock, on_rest=self._cool_down)
        return self.engine.screen

    def walkin(self, service: Service = "JHT") -> Screen:
        self.engine.start_walkin()
        self.engine.settle()
        self.engine.choose_service(service)
        drive(self.engine, self.clock, on_rest=self._cool_down)
        return self.engine.screen

    def tick(self) -> Screen:
        """One turn of the engine's loop; the screen after it."""
        self.engine.tick()
        return self.engine.screen

    def next_participant(self, seconds: float = 30.0) -> None:
        """The result screen times out; time passes before the next arrival."""
        self.clock.advance(seconds)
        self.engine.settle()
        assert self.engine.screen.phase is Phase.IDLE

    after_rest_c: float | None = None

    def _cool_down(self) -> None:
        if self.after_rest_c is not None:
            self.thermometer.set_object(self.after_rest_c)

    def engine_with(self, **ports: Unpack[Ports]) -> CheckinEngine:
        """A new engine over this rig's devices and stores (`kiosk.app.build_engine`, so with
        the config's settings), any of `build_engine`'s ports given instead (e.g.
        ``verifier=``, ``lookup=``, ``printer=``, ``background=jobs.append``); its screens are
        appended to `screens` too."""
        parts: Ports = {
            "clock": self.clock,
            "thermometer": self.thermometer,
            "printer": self.printer,
            "events": self.events,
            "ledger": self.ledger,
            "book": self.book,
        }
        self.engine = build_engine(self.config, **(parts | ports))
        self.engine.subscribe(self.screens.append)
        return self.engine

    def restart(
        self,
        *,
        printer: TicketPrinter | None = None,
        events: EventSink | None = None,
        book: TicketBook | None = None,
    ) -> CheckinEngine:
        """A power cut: new engine, ledger and ticket book over the same files."""
        self.ledger.close()
        self.book.close()
        self.ledger = CheckinLedger(self.config.booking.ledger_path)
        self.book = book or TicketBook(self.config.tickets.book_path)
        return self.engine_with(printer=printer or self.printer, events=events or self.events)

    def close(self) -> None:
        self.ledger.close()
        self.book.close()


def make_rig(
    directory: Path,
    *,
    printer: TicketPrinter | None = None,
    events: EventSink | None = None,
    book: TicketBook | None = None,
    **tables: dict[str, Any],
) -> Rig:
    """A rig whose config is `demo_config` plus `tables` (e.g. ``privacy={...}``)."""
    tables.setdefault("thermometer", {})
    tables["thermometer"] = {"source": "simulated", **tables["thermometer"]}
    config = demo_config(directory, _ISSUER, **cast(dict[str, Any], tables))
    clock = ManualClock(NOW)
    thermometer = SimulatedThermometer(36.6)
    sim_printer = build_simulated_printer(config, render=False)
    log = EventLog()
    ledger = CheckinLedger(config.booking.ledger_path)
    ticket_book = book or TicketBook(config.tickets.book_path)
    rig = Rig(
        directory, config, _ISSUER, clock, thermometer, sim_printer, log, ledger, ticket_book
    )  # fmt: skip
    rig.engine_with(printer=printer or sim_printer, events=events or log)
    return rig


def build_kiosk(rig: Rig) -> Kiosk:
    """The kiosk loop around `rig`'s parts: a scripted camera, offline (no broker)."""
    return build(
        rig.config,
        clock=rig.clock,
        camera=ScriptedCamera(),
        thermometer=rig.thermometer,
        printer=rig.printer,
        events=rig.events,
        online=False,
    )


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    """A kiosk with default settings at 09:30 WIB on a Monday, nothing checked in yet."""
    made = make_rig(tmp_path / "kiosk")
    yield made
    made.close()


@pytest.fixture
def kiosk(rig: Rig) -> Iterator[Kiosk]:
    """The kiosk loop around `rig` (`build_kiosk`), closed after the test."""
    made = build_kiosk(rig)
    yield made
    made.close()
