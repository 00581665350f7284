"""The kiosk's runtime loop: camera frames decoded, intents and timers, the state message.

One thread runs `Kiosk.run`: it owns the engine (`tick`, `read_codes`), the camera and its QR
decoder, and publishes the retained state on every change and every `state_interval_s`. The
wiring that builds a `Kiosk` is `kiosk.app.build`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk.adapters.qr import DecodeResult, LiveDecoder
from kiosk.booking import CheckinLedger
from kiosk.booking.cache import BookingCache
from kiosk.config import KioskConfig
from kiosk.domain.capacity import Occupancy
from kiosk.engine import CheckinEngine, CheckinResult
from kiosk.errors import CameraError
from kiosk.ports import FrameSource, TicketPrinter
from kiosk.store import TicketBook
from receipts.status import can_print
from uplink import Clock, Uplink, inbound, systemd, topics
from uplink.startup import StartupReport, Wait

logger = logging.getLogger(__name__)
LOOP_S = 0.02
"""The loop's period (s): intents and timers are handled at least this often."""


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
    # What the kiosk waits for at start besides the broker and the camera (the printer, booking
    # data): said once at start, ready said once (`uplink.startup`).
    startup_waits: list[Wait] = field(default_factory=list)
    _last_seq: int = -1
    last_decode: DecodeResult | None = None  # the touchscreen's "hold still, closer"
    _camera_down: bool = False
    _camera_started: bool = False
    _next_state: float = 0.0
    _state_signature: tuple[Any, ...] = ()
    _finished: int = 0  # check-ins finished so far (a change publishes the state at once)
    _threads: list[threading.Thread] = field(default_factory=list)
    _inbound: inbound.InboundGuard = field(init=False)

    def __post_init__(self) -> None:
        self.engine.on_finished(self._count_finished)
        self._inbound = inbound.InboundGuard(self._report_bad_inbound)

    def _count_finished(self, _result: CheckinResult) -> None:
        self._finished += 1

    def start(self, stop: threading.Event) -> None:
        """Start the uplink, the camera, the occupancy subscription and background jobs; say
        once what the kiosk waits for, and once that it is ready."""
        self.startup_report().watch(stop)
        self.uplink.start()
        if self.config.capacity.enabled:
            self.uplink.subscribe(topics.occupancy(self.config.booking.branch), self._occupancy)
        self.camera.start()
        self._camera_started = True  # frames are its own to report: a stuck one is a fault
        for job in self.background:
            thread = threading.Thread(target=job, args=(stop,), daemon=True, name="kiosk-bg")
            thread.start()
            self._threads.append(thread)

    def startup_report(self) -> StartupReport:
        """The start-up lines: the broker, the first camera frame, then `startup_waits`."""
        broker = self.config.uplink.broker
        waits = [
            Wait(
                f"the broker at {broker.host}:{broker.port}",
                lambda: self.uplink.connected,
                needed_to_serve=False,  # check-ins are kept in the outbox until it answers
            ),
            Wait(
                f"the camera ({self.config.camera.source})",
                lambda: self._camera_started and not self._camera_down,
            ),
            *self.startup_waits,
        ]
        return StartupReport(f"kiosk {self.config.uplink.device_id}", waits, self.clock)

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
                    self.last_decode = self.decoder.decode(sample.image)
                    engine.read_codes(self.last_decode.texts)
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

    def _occupancy(self, topic: str, payload: bytes) -> None:
        """A retained occupancy message (network thread): parsed once, a bad one dropped."""
        self._inbound.handler("occupancy", _parse_occupancy, self._on_occupancy)(topic, payload)

    def _on_occupancy(self, report: Occupancy) -> None:
        self.engine.occupancy.update(report, self.clock.now())
        self.engine.refresh_idle()

    def _report_bad_inbound(self, what: str, reason: str) -> None:
        detail = f"bad {what} message ignored: {reason}"[:500]
        try:
            self.uplink.record(
                "device.fault",
                {"component": "uplink", "code": "bad_inbound", "active": True, "detail": detail},
            )
        except Exception:  # a fault report must never become a second fault
            logger.exception("could not record the bad-message fault")


def startup_waits(config: KioskConfig, printer: TicketPrinter, cache: BookingCache) -> list[Wait]:
    """What a kiosk waits for at start besides the broker and the camera: a printer that can
    print (or cannot say), and booking data to verify with (the trust list)."""
    return [
        Wait(f"the printer ({config.printer.label()})", lambda: can_print(printer)),
        Wait(
            f"booking data (trust list {config.booking.trust_list_path})",
            lambda: cache.trust_list() is not None,
        ),
    ]


def _parse_occupancy(raw: bytes) -> Occupancy:
    """The contract's occupancy report (uplink.inbound, schema-checked) as the kiosk's value."""
    report = inbound.parse_occupancy(raw)
    return Occupancy(report.inside, report.capacity, report.at, report.waiting)
