"""A simulated kiosk to touch: real engine and verifier, simulated camera, thermometer, printer.

`SimKiosk` is wired without Kivy (tests and the benchmark drive it directly); the simulation
panel (`kiosk.ui.simpanel`) puts participants in front of its camera. Nothing here reaches a
broker or the network: events go to ``events.jsonl`` in the output folder.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from kiosk.adapters.qr import DecodeResult, LiveDecoder
from kiosk.app import build_decoder, build_engine
from kiosk.booking import Channel, CheckinLedger, Service
from kiosk.config import KioskConfig
from kiosk.devices import build_simulated_printer
from kiosk.engine import CheckinEngine
from kiosk.errors import CameraError
from kiosk.ports import Frame
from kiosk.sim.bookings import SimIssuer, token_qr
from kiosk.sim.camera import ScriptedCamera
from kiosk.sim.demo import demo_config
from kiosk.sim.frames import place
from kiosk.sim.thermometer import SimulatedThermometer
from kiosk.store import TicketBook
from receipts.sim import SimulatedPrinter
from uplink import Clock
from uplink.sink import EventLog

logger = logging.getLogger(__name__)

Who = str  # valid, replayed, wrong_branch, wrong_day, collective, walkin
WHO: tuple[Who, ...] = (
    "valid", "replayed", "wrong_branch", "wrong_day", "collective", "walkin", "unreadable",
)  # fmt: skip
COMPANY = "PT Maju Bersama"
PARTY = 24


@dataclass
class SimKiosk:
    """One kiosk on simulated devices, stepping like `kiosk.app.Kiosk` without an uplink."""

    config: KioskConfig
    issuer: SimIssuer
    clock: Clock
    engine: CheckinEngine
    camera: ScriptedCamera
    thermometer: SimulatedThermometer
    printer: SimulatedPrinter
    ledger: CheckinLedger
    book: TicketBook
    events: EventLog
    decoder: LiveDecoder = field(default_factory=LiveDecoder)
    rng: random.Random = field(default_factory=lambda: random.Random(0))  # noqa: S311
    shown: list[str] = field(default_factory=list)
    last_decode: DecodeResult | None = None
    zero_delay: bool = False  # run the engine to rest on every step (sensor samples at once)
    _last_seq: int = -1
    _camera_down: bool = False
    _booking_seq: int = 0
    _last_valid: str = ""

    def step(self) -> None:
        """One pass of the loop: intents and timers, then the newest frame."""
        engine = self.engine
        engine.tick()
        if not engine.accepts_frames:
            if self.zero_delay:
                engine.settle()
            return
        try:
            sample = self.camera.latest(self._last_seq)
        except CameraError as exc:
            if not self._camera_down:
                self._camera_down = True
                engine.camera_fault("no_frames", str(exc))
            return
        if self._camera_down:
            self._camera_down = False
            engine.camera_fault(None)
        if sample is not None:
            self._last_seq = sample.seq
            self.last_decode = self.decoder.decode(sample.image)
            engine.read_codes(self.last_decode.texts)
            if self.zero_delay:
                engine.settle()

    def token(
        self,
        *,
        branch: str | None = None,
        day_offset: int = 0,
        channel: Channel = "online",
        service: Service = "JHT",
    ) -> str:
        """A fresh signed booking for the current slot (or `day_offset` days later)."""
        self._booking_seq += 1
        zone = self.config.booking.zone
        now = self.clock.now().astimezone(zone)
        slot = now.replace(minute=0, second=0, microsecond=0) + timedelta(days=day_offset)
        collective = channel == "collective"
        return self.issuer.issue(
            f"SIM{self._booking_seq:06d}",
            branch=branch or self.config.booking.branch,
            slot_start=slot,
            zone=zone,
            service=service,
            channel=channel,
            party_size=PARTY if collective else 1,
            masked_name=COMPANY if collective else "B*** S******",
            issued_at=slot - timedelta(days=1),
        )

    def frame_of(self, token: str, *, damaged: bool = False) -> Frame:
        """The camera's view of a phone showing `token` as a QR code (`damaged`: a band across
        it is black, as on a cracked screen)."""
        code = token_qr(token, module_px=4)
        h, w = code.shape
        if damaged:
            code = code.copy()
            code[int(h * 0.3) : int(h * 0.7), int(w * 0.2) : int(w * 0.8)] = 0
        return place(code, at=((640 - w) // 2, (480 - h) // 2), rng=self.rng)

    def step_up(self, who: Who) -> str:
        """Put a participant in front of the kiosk; returns the QR text shown ("" for none)."""
        if who == "walkin":
            self.engine.start_walkin()  # as if they touched NO BOOKING
            return ""
        if who == "replayed" and self._last_valid:
            text = self._last_valid
        elif who == "wrong_branch":
            text = self.token(branch="bali-denpasar")  # a real branch: its name is shown
        elif who == "wrong_day":
            text = self.token(day_offset=1)
        elif who == "collective":
            text = self.token(channel="collective")
        elif who == "unreadable":  # a cracked phone screen: the code is seen, never read
            self.shown.append(who)
            self.camera.show(self.frame_of(self.token(), damaged=True))
            return ""
        else:
            text = self.token(service=self.rng.choice(("JHT", "JHT", "JHT", "JKK", "JP")))
            self._last_valid = text
        self.shown.append(who)
        self.camera.show(self.frame_of(text))
        return text

    def step_away(self) -> None:
        """The phone goes back in the pocket: the camera sees an empty scene."""
        self.camera.show(self._empty)

    @property
    def _empty(self) -> Frame:
        return place(token_qr("x")[:1, :1], rng=self.rng)

    def forget(self, keep: int = 10) -> None:
        """Drop all but the last `keep` of the simulators' records (events kept, jobs printed):
        a simulation running for hours, or a memory benchmark, keeps only what it shows."""
        for records in (self.events.records, self.printer.jobs, self.shown):
            del records[: max(0, len(records) - keep)]

    def close(self) -> None:
        self.book.close()
        self.ledger.close()


def sim_kiosk(
    directory: Path,
    clock: Clock,
    *,
    issuer: SimIssuer | None = None,
    render_tickets: bool = True,
    monotonic: Callable[[], float] | None = None,
    zero_delay: bool = False,
) -> SimKiosk:
    """A demo kiosk whose files all live in `directory` (tickets as PNGs in `directory/tickets`).

    With `zero_delay` the thermometer is sampled without pauses and each step runs the engine
    until nothing more happens (benchmarks and soaks: no waiting on simulated devices).
    """
    issuer = issuer or SimIssuer()
    config = demo_config(
        directory,
        issuer,
        camera={"source": "folder", "folder": directory / "qr", "repeat_ignore_s": 3.0},
        thermometer={
            "source": "simulated",
            "retry_rest_s": 10.0,
            "sample_interval_s": 0.0 if zero_delay else 0.1,
        },
        flow={"ticket_screen_s": 12.0, "message_screen_s": 10.0},
    )
    thermometer = SimulatedThermometer(36.6)
    printer = build_simulated_printer(
        config, out_dir=directory / "tickets" if render_tickets else None, render=render_tickets
    )
    events = EventLog(jsonl=directory / "events.jsonl")
    ledger = CheckinLedger(config.booking.ledger_path)
    book = TicketBook(config.tickets.book_path)
    engine = build_engine(
        config,
        clock=clock,
        thermometer=thermometer,
        printer=printer,
        events=events,
        ledger=ledger,
        book=book,
    )
    camera = ScriptedCamera("sim", monotonic or clock.monotonic)
    kiosk = SimKiosk(
        config, issuer, clock, engine, camera, thermometer, printer, ledger, book, events,
        decoder=build_decoder(config), zero_delay=zero_delay,
    )  # fmt: skip
    kiosk.step_away()
    return kiosk


def now_of(text: str | None) -> datetime | None:
    """`--now` as an aware datetime (None: the real time)."""
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"--now {text!r} needs a UTC offset, e.g. 2026-06-15T09:10:00+07:00")
    return moment
