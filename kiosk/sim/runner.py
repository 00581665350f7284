"""Simulated kiosks: one at a branch entrance (`run_simulated`) and headless check-ins of QR
photos (`checkin_simulated`, for `kiosk checkin --simulate`)."""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.adapters.qr import QrDecoder
from kiosk.app import build, build_engine, build_qr_decoder
from kiosk.booking import CheckinLedger, Service
from kiosk.config import KioskConfig
from kiosk.devices import build_simulated_devices
from kiosk.domain.screens import Screen
from kiosk.engine import CheckinEngine, CheckinResult
from kiosk.runtime import LOOP_S, Kiosk
from kiosk.sim.camera import FolderCamera, load_image
from kiosk.sim.driver import Participants, drive
from kiosk.sim.thermometer import SimulatedThermometer
from kiosk.store import TicketBook
from receipts.sim import SimulatedPrinter
from uplink import ManualClock, Outbox, SimulatedClock, Uplink
from uplink.sink import EventLog

logger = logging.getLogger(__name__)


@dataclass
class SimulatedKiosk:
    """A kiosk built on simulated devices, and the participants who step up to it."""

    kiosk: Kiosk
    camera: FolderCamera
    thermometer: SimulatedThermometer
    printer: SimulatedPrinter
    participants: Participants


def build_simulated_kiosk(
    config: KioskConfig,
    images: Path,
    out_dir: Path,
    clock: SimulatedClock,
    *,
    arrival_s: float = 20.0,
    walkin_every: int = 4,
    seed: int | None = None,
) -> SimulatedKiosk:
    """The kiosk of `config` on a folder camera (`images`), a simulated thermometer and a
    simulated printer writing PNGs into `out_dir`, with a real uplink whose timers run in real
    time; shared by the headless runner and the touchscreen's branch kiosk."""
    # The config says what the kiosk runs on (its start-up line names the camera and printer).
    config = config.model_copy(
        update={
            "camera": config.camera.model_copy(update={"source": "folder", "folder": images}),
            "printer": config.printer.model_copy(update={"transport": "simulated"}),
        }
    )
    camera = FolderCamera(images, monotonic=clock.monotonic)
    devices = build_simulated_devices(config, camera=camera, out_dir=out_dir)
    thermometer, printer = devices.thermometer, devices.printer
    kiosk = build(
        config,
        clock=clock,
        camera=camera,
        thermometer=thermometer,
        printer=printer,
        uplink=Uplink(config.uplink, clock=clock.with_real_timers()),
        online=False,
    )
    participants = Participants(
        kiosk.engine,
        camera,
        thermometer,
        arrival_s=arrival_s,
        walkin_every=walkin_every,
        rng=random.Random(seed),  # noqa: S311 - simulation
        wall=clock.now,
    )
    return SimulatedKiosk(kiosk, camera, thermometer, printer, participants)


def run_simulated(
    config: KioskConfig,
    images: Path,
    out_dir: Path,
    *,
    speed: float = 1.0,
    stop: threading.Event,
    arrival_s: float = 20.0,
    walkin_every: int = 4,
    seed: int | None = None,
    start_at: datetime | None = None,
    clock: SimulatedClock | None = None,
    on_built: Callable[[SimulatedKiosk], None] | None = None,
) -> None:
    """A simulated kiosk at the branch entrance, until `stop` is set (blocks; run it in a thread).

    Real parts: the Uplink from `config.uplink` (events reach the back office through the broker;
    the retained state carries ``summary`` and ``alerts`` for `backoffice watch`, and is
    published again on every change and at stop), the occupancy subscription, the booking
    verifier and ledger from `config.booking`, the ticket book from `config.tickets`. Simulated
    whatever `config` says: the camera shows each QR image that appears in `images` once (files
    may be added while it runs), when its booking's slot is about to open (20 min before; other
    images in name order), the thermometer gives each participant a
    temperature (about 5 % high once: rest and retry; 3 % high twice: referral and slip), the
    printer writes ``ticket-NNNN.png`` / ``slip-NNNN.png`` into `out_dir`; every `walkin_every`-th
    arrival is a walk-in choosing a programme. No HTTP (no booking sync or code lookup).

    Args:
        config: the kiosk's config (its `[camera]`, `[thermometer]`, `[printer]` are ignored).
        images: folder of booking QR images (e.g. `issue_sample_day(...).images`' folder).
        out_dir: created; tickets and slips as PNGs, and ``screens.jsonl`` (one line per screen).
        speed: kiosk timers (temperature samples, rest, screen timeouts) run this much faster.
        stop: set it to end the run; the state is published and the outbox drained for up to 2 s.
        arrival_s: mean time between arrivals in kiosk time (real time: ``arrival_s / speed``).
        walkin_every: every n-th arrival is a walk-in (0: none).
        seed: makes temperatures, services and arrival times reproducible.
        start_at: the kiosk's wall clock starts here and runs `speed` times faster (to play a
            sample day whose slots are not now); default: the machine's time at the call.
        clock: the simulation's one clock (the whole branch shares it); replaces `speed` and
            `start_at`. Events are stamped with its time; the uplink's ack timeouts and
            retries run in real time, as on a kiosk.
        on_built: called with the simulated kiosk once built, before it starts (a fault test
            breaks its printer or camera through it; called on this thread).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    if clock is None:
        clock = SimulatedClock(start_at or datetime.now(UTC), speed)
    speed = clock.speed
    sim = build_simulated_kiosk(
        config, images, out_dir, clock, arrival_s=arrival_s, walkin_every=walkin_every, seed=seed
    )
    if on_built is not None:
        on_built(sim)
    kiosk, participants = sim.kiosk, sim.participants
    screens_log = (out_dir / "screens.jsonl").open("a", encoding="utf-8")
    kiosk.engine.subscribe(lambda screen: _log_screen(screens_log, screen, clock.now()))
    kiosk.start(stop)
    logger.info("simulated kiosk %s running (speed %.1fx)", config.uplink.device_id, speed)
    try:
        while not stop.is_set():
            try:
                participants.step(clock.monotonic())
                kiosk.step()
            except Exception:  # loop boundary, as in the real kiosk
                logger.exception("simulated kiosk step failed")
            stop.wait(LOOP_S)
    finally:
        kiosk.uplink.publish_state(kiosk.state())
        kiosk.uplink.wait_drained(2.0)
        kiosk.close()
        screens_log.close()


@dataclass(frozen=True)
class Arrival:
    """One participant of a headless run (`checkin_simulated`).

    Attributes:
        image: a photo of the booking QR they show, or None for a walk-in.
        service: the programme a walk-in picks (ignored with an image).
        temperatures_c: the forehead reading of the first measurement and, if that one is high,
            of the second after the rest.
    """

    image: Path | None = None
    service: Service = "JHT"
    temperatures_c: tuple[float, ...] = (36.6,)


@dataclass
class HeadlessKiosk:
    """The parts of a headless run (`checkin_simulated`): the engine on the app's wiring with
    simulated devices, and fresh stores and outbox of its own."""

    engine: CheckinEngine
    clock: ManualClock
    thermometer: SimulatedThermometer
    printer: SimulatedPrinter
    decoder: QrDecoder
    events: EventLog
    ledger: CheckinLedger
    book: TicketBook

    def close(self) -> None:
        self.book.close()
        self.ledger.close()
        if self.events.outbox is not None:
            self.events.outbox.close()


def build_headless(
    config: KioskConfig, out_dir: Path, clock: ManualClock, *, paper_left: int | None = None
) -> HeadlessKiosk:
    """The kiosk of `config` built as the app builds it (`kiosk.app`, `kiosk.devices`), its
    thermometer and printer simulated (tickets and slips as PNGs in `out_dir`, `paper_left`
    tickets' paper) and its ledger, ticket book and outbox fresh files in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    devices = build_simulated_devices(config, out_dir=out_dir, paper_left=paper_left)
    events = EventLog(
        outbox=Outbox(out_dir / "outbox.db", config.uplink.device_id, clock=clock),
        jsonl=out_dir / "events.jsonl",
    )
    ledger = CheckinLedger(out_dir / "ledger.db")
    book = TicketBook(out_dir / "tickets.db")
    engine = build_engine(
        config,
        clock=clock,
        thermometer=devices.thermometer,
        printer=devices.printer,
        events=events,
        ledger=ledger,
        book=book,
    )
    return HeadlessKiosk(
        engine, clock, devices.thermometer, devices.printer, build_qr_decoder(config), events,
        ledger, book,
    )  # fmt: skip


def checkin_simulated(
    config: KioskConfig,
    arrivals: Sequence[Arrival],
    out_dir: Path,
    *,
    now: datetime | None = None,
    paper_left: int | None = None,
    gap_s: float = 60.0,
) -> list[dict[str, Any]]:
    """`kiosk checkin --simulate`: check `arrivals` in one after another, headless, offline.

    Real parts: the booking verifier (the config's trust anchors and trust list), the decoder, the
    engine, a durable outbox. Simulated: the thermometer, the printer (tickets and slips as PNGs
    in `out_dir`) and time (a manual clock from `now`, `gap_s` between arrivals). The ledger,
    ticket book and outbox are fresh files in `out_dir`, never the kiosk's own, so a simulation
    on a kiosk claims no real booking. Every event is appended to `out_dir/events.jsonl` as the
    envelope the uplink would send. Built as the app builds a kiosk (`build_headless`).

    Returns:
        One record per arrival: input, phase, reason, ticket number, printed, png, qr_ms.
    """
    headless = build_headless(
        config, out_dir, ManualClock(now or datetime.now(UTC)), paper_left=paper_left
    )
    engine, clock = headless.engine, headless.clock
    records: list[dict[str, Any]] = []
    try:
        for arrival in arrivals:
            records.append(_one_arrival(headless, arrival))
            engine.cancel()
            engine.settle()
            clock.advance(gap_s)
    finally:
        headless.close()
    return records


def _one_arrival(headless: HeadlessKiosk, arrival: Arrival) -> dict[str, Any]:
    engine, clock, decoder = headless.engine, headless.clock, headless.decoder
    thermometer, printer = headless.thermometer, headless.printer
    readings = list(arrival.temperatures_c) or [36.6]
    thermometer.set_object(readings[0])
    record: dict[str, Any] = {"input": str(arrival.image) if arrival.image else "walkin"}
    jobs = len(printer.jobs)
    if arrival.image is not None:
        decoded = decoder.decode(load_image(arrival.image))
        record["qr_ms"] = decoded.ms
        if not decoded.texts:
            record.update(phase="no_code", reason="no_qr_code_found")
            return record
    finished: list[CheckinResult] = []
    unsubscribe = engine.on_finished(finished.append)
    try:
        if arrival.image is not None:
            engine.read_codes(decoded.texts)
        else:
            record["input"] = f"walkin:{arrival.service}"
            engine.start_walkin()
            engine.settle()
            engine.choose_service(arrival.service)
        drive(engine, clock, on_rest=lambda: thermometer.set_object(readings[-1]))
    finally:
        unsubscribe()
    if finished:
        outcome = finished[-1]
        record.update(
            phase=outcome.phase.value,
            reason=outcome.reason,
            ticket_number=outcome.ticket_number,
            printed=outcome.printed,
            checkin_id=outcome.checkin_id,
        )
    else:
        record.update(phase=engine.screen.phase.value, reason="unfinished")
    pngs = [str(job.png_path) for job in printer.jobs[jobs:] if job.png_path is not None]
    if pngs:
        record["png"] = pngs
    return record


def _log_screen(stream: Any, screen: Screen, at: datetime) -> None:
    record = {
        "at": at.isoformat(),
        "phase": screen.phase.value,
        "title": screen.title.id,
        "number": screen.number,
        "printed": screen.ticket is None or screen.ticket.printed,
        "wait_outside": screen.wait_outside,
    }
    stream.write(json.dumps(record) + "\n")
    stream.flush()
