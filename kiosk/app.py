"""Wiring: the only module that chooses real or simulated devices and starts the kiosk's loop."""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.adapters.qr import LiveDecoder, QrDecoder
from kiosk.booking import BookingVerifier, CheckinLedger, Service, build_verifier, open_cache
from kiosk.booking.clockwatch import ClockWatch
from kiosk.booking.ledger import Duplicate
from kiosk.config import KioskConfig
from kiosk.domain.capacity import OccupancyView, parse_occupancy
from kiosk.domain.scanning import is_booking_token
from kiosk.domain.screens import Screen
from kiosk.domain.temperature import TemperaturePolicy
from kiosk.engine import CheckinEngine, CheckinResult, CodeLookup, EngineSettings
from kiosk.errors import CameraError
from kiosk.ports import EventSink, FrameSource, Thermometer, TicketPrinter
from kiosk.sim.camera import FolderCamera, load_image
from kiosk.sim.driver import Participants, drive
from kiosk.sim.events import EventLog
from kiosk.sim.printer import SimulatedPrinter, ticket_or_slip
from kiosk.sim.thermometer import SimulatedThermometer
from kiosk.store import TicketBook
from receipts.wiring import build_printer as build_receipt_printer
from uplink import Clock, ManualClock, Outbox, SimulatedClock, SystemClock, Uplink, systemd, topics
from uplink.clock import utc_iso

logger = logging.getLogger(__name__)
LOOP_S = 0.02


def policy_from(config: KioskConfig) -> TemperaturePolicy:
    th = config.thermometer
    return TemperaturePolicy(
        threshold_c=th.threshold_c,
        forehead_offset_c=th.forehead_offset_c,
        stable_samples=th.stable_samples,
        stable_span_c=th.stable_span_c,
        sample_interval_s=th.sample_interval_s,
        presence_min_c=th.presence_min_c,
        plausible_max_c=th.plausible_max_c,
        attempt_timeout_s=th.attempt_timeout_s,
        retry_rest_s=th.retry_rest_s,
    )


def settings_from(config: KioskConfig) -> EngineSettings:
    """The engine's settings from the whole config."""
    letters = config.tickets.class_letters
    return EngineSettings(
        kiosk_id=config.booking.kiosk_id,
        branch=config.booking.branch,
        branch_name=config.tickets.branch_name,
        zone=config.booking.zone,
        kiosk_code=config.tickets.kiosk_code,
        class_letters={
            "online": letters.online,
            "collective": letters.collective,
            "walkin": letters.walkin,
        },
        track_url=config.tickets.track_url,
        columns=config.printer.columns,
        policy=policy_from(config),
        on_unavailable=config.thermometer.on_unavailable,
        store_readings=config.privacy.store_temperature_readings,
        link_temperature=config.privacy.link_temperature_to_booking,
        referral_slip=config.printer.referral_slip,
        ticket_screen_s=config.flow.ticket_screen_s,
        message_screen_s=config.flow.message_screen_s,
        choice_timeout_s=config.flow.choice_timeout_s,
        repeat_ignore_s=config.camera.repeat_ignore_s,
        people_ahead_window_min=config.tickets.people_ahead_window_min,
    )


def build_camera(config: KioskConfig) -> FrameSource:
    """The configured camera (hardware libraries are imported when it opens)."""
    cam = config.camera
    if cam.source == "picamera2":
        from kiosk.adapters.picamera import picamera2_source

        return picamera2_source(
            cam.camera_num,
            width=cam.width_px,
            height=cam.height_px,
            frame_timeout_s=cam.frame_timeout_s,
            max_age_s=cam.max_frame_age_s,
        )
    if cam.source == "usb":
        from kiosk.adapters.usbcam import usb_source

        return usb_source(
            cam.device,
            width=cam.width_px,
            height=cam.height_px,
            frame_timeout_s=cam.frame_timeout_s,
            max_age_s=cam.max_frame_age_s,
        )
    assert cam.folder is not None  # noqa: S101 - the config validator guarantees it
    return FolderCamera(cam.folder, auto=True)


def build_thermometer(config: KioskConfig) -> Thermometer:
    th = config.thermometer
    if th.source == "simulated":
        return SimulatedThermometer()
    from kiosk.adapters.mlx90614 import LazyBus, Mlx90614

    return Mlx90614(LazyBus(th.i2c_bus), th.address)


def build_printer(config: KioskConfig) -> TicketPrinter:
    """The ticket printer the config names (simulated tickets and slips as PNGs)."""
    return build_receipt_printer(config.printer, kind=ticket_or_slip)


@dataclass
class Kiosk:
    """A wired kiosk: engine, camera, uplink and the background jobs around them."""

    config: KioskConfig
    engine: CheckinEngine
    camera: FrameSource
    uplink: Uplink
    clock: Clock
    book: TicketBook
    ledger: CheckinLedger
    decoder: LiveDecoder = field(default_factory=LiveDecoder)
    background: list[Callable[[threading.Event], None]] = field(default_factory=list)
    state_extra: list[Callable[[], dict[str, Any]]] = field(default_factory=list)
    _last_seq: int = -1
    _camera_down: bool = False
    _next_state: float = 0.0
    _state_signature: tuple[Any, ...] = ()
    _finished: int = 0  # check-ins finished so far (a change publishes the state at once)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.engine.on_finished(self._count_finished)

    def _count_finished(self, _result: CheckinResult) -> None:
        self._finished += 1

    def start(self, stop: threading.Event) -> None:
        """Start the uplink, the camera, the occupancy subscription and background jobs."""
        self.uplink.start()
        if self.config.capacity.enabled:
            self.uplink.subscribe(topics.occupancy(self.config.booking.branch), self._occupancy)
        self.camera.start()
        for job in self.background:
            thread = threading.Thread(target=job, args=(stop,), daemon=True, name="kiosk-bg")
            thread.start()
            self._threads.append(thread)

    def step(self) -> None:
        """One pass of the kiosk loop: intents and timers, the newest frame, the state message."""
        engine = self.engine
        engine.tick()
        if engine.accepts_frames:
            try:
                sample = self.camera.latest(self._last_seq)
            except CameraError as exc:
                self._camera_down = True
                engine.camera_fault("no_frames", str(exc))
            else:
                if sample is not None:
                    if self._camera_down:
                        self._camera_down = False
                        engine.camera_fault(None)
                    self._last_seq = sample.seq
                    engine.read_codes(self.decoder.decode(sample.image).texts)
        now = self.clock.monotonic()
        signature = (
            engine.screen.phase,
            tuple(sorted(engine.faults.items())),
            engine.out_of_service_reason,
            self._finished,
        )
        if now >= self._next_state or signature != self._state_signature:
            self._next_state = now + self.config.state_interval_s
            self._state_signature = signature
            self.uplink.publish_state(self.state())

    def state(self) -> dict[str, Any]:
        state = self.engine.state()
        for extra in self.state_extra:
            more = extra()
            state["alerts"] = [*state["alerts"], *more.pop("alerts", [])]
            state.update(more)
        return state

    def run(self, stop: threading.Event) -> None:
        """The kiosk's loop until `stop` is set; tells systemd it is ready and alive."""
        self.start(stop)
        systemd.notify_ready()
        try:
            while not stop.is_set():
                try:
                    self.step()
                except Exception:  # loop boundary: log, keep the entrance open
                    logger.exception("kiosk loop step failed")
                if self.uplink.alive():
                    systemd.notify_watchdog()  # not fed once the uplink really stopped
                stop.wait(LOOP_S)
        finally:
            self.close()

    def close(self) -> None:
        self.camera.stop()
        self.uplink.stop()
        self.book.close()
        self.ledger.close()

    def _occupancy(self, _topic: str, payload: bytes) -> None:
        try:
            report = parse_occupancy(payload)
        except ValueError as exc:
            logger.warning("ignoring occupancy message: %s", exc)
            return
        self.engine.occupancy.update(report, self.clock.now())
        self.engine.refresh_idle()


def build_engine(
    config: KioskConfig,
    *,
    clock: Clock,
    thermometer: Thermometer,
    printer: TicketPrinter,
    events: EventSink,
    ledger: CheckinLedger,
    book: TicketBook,
    verifier: BookingVerifier | None = None,
    lookup: CodeLookup | None = None,
    data_age: Callable[[], tuple[str, str]] | None = None,
) -> CheckinEngine:
    """The check-in engine over the given devices, with the config's verifier."""
    if verifier is None:
        verifier = build_verifier(config.booking, ledger=ledger, cache=open_cache(config.booking))
    return CheckinEngine(
        settings_from(config),
        verifier=verifier,
        ledger=ledger,
        thermometer=thermometer,
        printer=printer,
        events=events,
        book=book,
        clock=clock,
        occupancy=OccupancyView(config.capacity.max_age_s),
        lookup=lookup,
        data_age=data_age,
    )


def build_decoder(config: KioskConfig) -> LiveDecoder:
    """The camera loop's QR decoder: every code in a frame, searching on until a booking."""
    return LiveDecoder(
        QrDecoder(budget_ms=config.camera.scan_budget_ms, wanted=is_booking_token),
        fallback_every=config.camera.live_fallback_every,
    )


def build(
    config: KioskConfig,
    *,
    clock: Clock | None = None,
    camera: FrameSource | None = None,
    thermometer: Thermometer | None = None,
    printer: TicketPrinter | None = None,
    uplink: Uplink | None = None,
    events: EventSink | None = None,
    online: bool = True,
) -> Kiosk:
    """Wire a kiosk from its config; any device may be passed in instead (simulation, tests).

    `online=False` leaves out the booking sync and typed-code lookup (no HTTP).
    """
    clock = clock or SystemClock()
    uplink = uplink or Uplink(config.uplink, clock=clock)
    ledger = CheckinLedger(config.booking.ledger_path)
    cache = open_cache(config.booking)
    verifier: BookingVerifier = build_verifier(
        config.booking, ledger=ledger, cache=cache, clock=clock
    )
    lookup: CodeLookup | None = None
    background: list[Callable[[threading.Event], None]] = []
    state_extra: list[Callable[[], dict[str, Any]]] = []
    data_age: Callable[[], tuple[str, str]] | None = None
    # An untrusted clock is said in the state message and recorded as a fault on each change.
    state_extra.append(ClockWatch(clock, (events or uplink).record).state)
    if online and config.booking.api_base_url:
        # requests is loaded only here, for the sync and the typed-code lookup.
        from kiosk.booking.lookup import CodeLookup as Lookup
        from kiosk.booking.sync import BookingSync, describe_age

        def report_duplicate(duplicate: Duplicate) -> None:
            uplink.record("kiosk.checkin.duplicate", duplicate_payload(duplicate))

        sync = BookingSync(
            config.booking, cache, ledger, clock=clock, on_duplicate=report_duplicate
        )
        lookup = Lookup(config.booking, verifier, cache).lookup
        background.append(sync.run)
        state_extra.append(sync.state)

        def data_age() -> tuple[str, str]:  # shown on the welcome screen
            return describe_age(cache.cache_age_s(clock.now()))

    book = TicketBook(config.tickets.book_path)
    for component, opened in (("ledger", ledger), ("tickets", book)):
        if opened.moved_aside is not None:  # loud, and the kiosk keeps serving
            (events or uplink).record(
                "device.fault",
                {
                    "component": component,
                    "code": "replaced_unusable",
                    "active": True,
                    "detail": f"{opened.problem}; moved aside to {opened.moved_aside.name}",
                },
            )
    engine = build_engine(
        config,
        clock=clock,
        thermometer=thermometer or build_thermometer(config),
        printer=printer or build_printer(config),
        events=events or uplink,
        ledger=ledger,
        book=book,
        verifier=verifier,
        lookup=lookup,
        data_age=data_age,
    )
    return Kiosk(
        config,
        engine,
        camera or build_camera(config),
        uplink,
        clock,
        book,
        ledger,
        decoder=build_decoder(config),
        background=background,
        state_extra=state_extra,
    )


def duplicate_payload(duplicate: Duplicate) -> dict[str, str]:
    """The kiosk.checkin.duplicate event for a booking checked in here and at another kiosk."""
    return {
        "booking_id": duplicate.booking_id,
        "local_kiosk": duplicate.local_kiosk,
        "local_at": utc_iso(duplicate.local_at),
        "remote_kiosk": duplicate.remote_kiosk,
        "remote_at": utc_iso(duplicate.remote_at),
    }


def run(config: KioskConfig, stop: threading.Event) -> None:
    """`kiosk run`: the appliance, headless until the touchscreen UI attaches to the engine."""
    build(config).run(stop)


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
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    if clock is None:
        clock = SimulatedClock(start_at or datetime.now(UTC), speed)
    speed = clock.speed
    camera = FolderCamera(images, monotonic=clock.monotonic)
    thermometer = SimulatedThermometer()
    printer = SimulatedPrinter(
        out_dir, columns=config.printer.columns, paper_dots=config.printer.paper_dots
    )
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
    envelope the uplink would send.

    Returns:
        One record per arrival: input, phase, reason, ticket number, printed, png, qr_ms.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    clock = ManualClock(now or datetime.now(UTC))
    thermometer = SimulatedThermometer()
    printer = SimulatedPrinter(
        out_dir,
        columns=config.printer.columns,
        paper_dots=config.printer.paper_dots,
        paper_left=paper_left,
    )
    events = EventLog(
        outbox=Outbox(out_dir / "outbox.db", config.uplink.device_id, clock=clock),
        jsonl=out_dir / "events.jsonl",
    )
    ledger = CheckinLedger(out_dir / "ledger.db")
    book = TicketBook(out_dir / "tickets.db")
    engine = build_engine(
        config,
        clock=clock,
        thermometer=thermometer,
        printer=printer,
        events=events,
        ledger=ledger,
        book=book,
    )
    decoder = QrDecoder(budget_ms=config.camera.scan_budget_ms, wanted=is_booking_token)
    records: list[dict[str, Any]] = []
    try:
        for arrival in arrivals:
            records.append(_one_arrival(engine, clock, thermometer, printer, decoder, arrival))
            engine.cancel()
            engine.settle()
            clock.advance(gap_s)
    finally:
        book.close()
        ledger.close()
        if events.outbox is not None:
            events.outbox.close()
    return records


def _one_arrival(
    engine: CheckinEngine,
    clock: ManualClock,
    thermometer: SimulatedThermometer,
    printer: SimulatedPrinter,
    decoder: QrDecoder,
    arrival: Arrival,
) -> dict[str, Any]:
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
