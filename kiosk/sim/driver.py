"""Simulated participants: they hold up booking QR codes, walk in, and have temperatures."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from kiosk.adapters.qr import QrDecoder
from kiosk.booking import Service
from kiosk.domain.screens import Phase
from kiosk.engine import SCAN_PHASES, CheckinEngine
from kiosk.errors import CameraError
from kiosk.sim.camera import FolderCamera, load_image
from kiosk.sim.thermometer import SimulatedThermometer
from uplink import ManualClock
from uplink.booking import token as booking_token

logger = logging.getLogger(__name__)

Profile = Literal["normal", "fever_once", "fever"]
WAITING_PHASES = frozenset({Phase.MEASURING, Phase.RESTING, Phase.CHOOSE_SERVICE})
# Claims by programme at one Jakarta branch, 1-25 June 2020 (domain brief): mostly JHT.
SERVICE_WEIGHTS: dict[Service, int] = {"JHT": 2715, "JKK": 200, "JKM": 21, "JP": 54}


def drive(
    engine: CheckinEngine,
    clock: ManualClock,
    *,
    max_s: float = 600.0,
    on_rest: Callable[[], None] | None = None,
) -> Phase:
    """Run the engine on a manual clock until the current check-in has ended (no sleeping).

    Args:
        engine: the engine, driven on this thread.
        clock: the engine's clock; advanced straight to each timer.
        max_s: give up after this much simulated time.
        on_rest: called once when the participant is sent to rest (e.g. to cool down).

    Returns:
        The phase the engine stopped in (a result screen, or CHOOSE_SERVICE waiting for a pick).
    """
    spent = 0.0
    rested = False
    while True:
        engine.settle()
        phase = engine.screen.phase
        if phase is Phase.RESTING and not rested:
            rested = True
            if on_rest is not None:
                on_rest()
        if phase not in WAITING_PHASES or phase is Phase.CHOOSE_SERVICE:
            return phase
        wake = engine.wake_at()
        if wake is None or spent > max_s:
            return phase
        step = max(wake - clock.monotonic(), 0.001)
        clock.advance(step)
        spent += step


@dataclass(frozen=True)
class Visit:
    """One scripted participant (a simulated day's set piece), due at a wall-clock instant.

    Attributes:
        at: when they step up to the kiosk (the kiosk's wall clock).
        label: what the visit shows, for logs (e.g. "booking too early").
        image: the booking QR photo they hold up (shown again for a replayed screenshot), or
            None for a walk-in.
        service: the programme a walk-in picks.
        temperatures_c: the first reading and, if that one is high, the reading after the rest.
    """

    at: datetime
    label: str
    image: Path | None = None
    service: Service = "JHT"
    temperatures_c: tuple[float, ...] = (36.6,)


class Participants:
    """Arrivals at the kiosk, paced by the engine's clock.

    Each arrival either shows a booking QR image from the folder or, every `walkin_every`-th
    time, walks in and picks a programme. With `wall` (the kiosk's wall clock), participants are
    punctual: an image is shown once its booking's slot is about to open (`early_min` before;
    images that are not bookings, in name order, whenever reached); without it, in name order.
    Temperatures: mostly normal, some high once (normal after the rest), a few high twice.
    Scripted visits (`expect`) come first once due, between the random arrivals.
    """

    def __init__(
        self,
        engine: CheckinEngine,
        camera: FolderCamera,
        thermometer: SimulatedThermometer,
        *,
        arrival_s: float = 20.0,
        walkin_every: int = 4,
        rng: random.Random | None = None,
        wall: Callable[[], datetime] | None = None,
        early_min: float = 20.0,
    ) -> None:
        self.engine = engine
        self.camera = camera
        self.thermometer = thermometer
        self.arrival_s = arrival_s
        self.walkin_every = walkin_every
        self.rng = rng or random.Random()  # noqa: S311 - simulation, not security
        self.arrivals = 0
        self.walkins = 0
        self._next_arrival = 0.0
        self._profile: Profile = "normal"
        self._after_rest_c: float | None = None  # the reading once rested (None: still high)
        self._visits: list[Visit] = []
        self.visited: list[tuple[datetime, Visit]] = []
        self._service: Service = "JHT"
        self._shown_at: float | None = None
        self._wall = wall
        self._early = timedelta(minutes=early_min)
        self._slots: dict[Path, datetime | None] = {}
        self._decoder = QrDecoder(budget_ms=100)

    def step(self, now: float) -> None:
        """Called from the kiosk loop with the engine clock's monotonic time."""
        phase = self.engine.screen.phase
        if phase is Phase.CHOOSE_SERVICE:
            self.engine.choose_service(self._service)
        elif phase is Phase.RESTING and self._after_rest_c is not None:
            self.thermometer.set_object(self._after_rest_c)
        if self._shown_at is not None and (phase not in SCAN_PHASES or now - self._shown_at > 5):
            self.camera.clear()  # the phone goes back in the pocket
            self._shown_at = None
        if phase in SCAN_PHASES and self._shown_at is None:
            wall = self._wall() if self._wall is not None else None
            visit = self._due_visit(wall)
            if wall is not None and visit is not None:
                self.visited.append((wall, visit))
                self._visit(visit, now)
            elif now >= self._next_arrival:
                self._arrive(now)

    def expect(self, visits: list[Visit]) -> None:
        """Add scripted visits; each comes once its time is reached, in time order (only with
        a wall clock: `wall`)."""
        self._visits = sorted([*self._visits, *visits], key=lambda v: v.at)

    def _due_visit(self, wall: datetime | None) -> Visit | None:
        if not self._visits or wall is None or self._visits[0].at > wall:
            return None
        return self._visits.pop(0)

    def _visit(self, visit: Visit, now: float) -> None:
        logger.info("scripted visit: %s", visit.label)
        readings = visit.temperatures_c or (36.6,)
        self.thermometer.set_object(readings[0])
        self._after_rest_c = readings[-1]
        self.arrivals += 1
        if visit.image is not None:
            if self.camera.show_file(visit.image):
                self._shown_at = now
            return
        self.walkins += 1
        self._service = visit.service
        self.engine.start_walkin()

    def _arrive(self, now: float) -> None:
        self._next_arrival = now + self.arrival_s * self.rng.uniform(0.5, 1.5)
        self._set_temperature()
        walk_in = self.walkin_every > 0 and (self.arrivals + 1) % self.walkin_every == 0
        due = None if walk_in else self._next_due()
        if due is not None and self.camera.show_file(due):
            self.arrivals += 1
            self._shown_at = now
            return
        if walk_in:
            self.arrivals += 1
            self.walkins += 1
            services, weights = zip(*SERVICE_WEIGHTS.items(), strict=True)
            self._service = self.rng.choices(services, weights)[0]
            self.engine.start_walkin()

    def _next_due(self) -> Path | None:
        """The next image whose participant is here by now."""
        pending = self.camera.pending()
        if self._wall is None:
            return pending[0] if pending else None
        now = self._wall()
        for path in pending:
            slot = self._slot_of(path)
            if slot is None or slot - self._early <= now:
                return path
        return None

    def _slot_of(self, path: Path) -> datetime | None:
        """When the booking in the image starts (the participant knows their own booking)."""
        if path not in self._slots:
            slot = None
            try:
                texts = self._decoder.decode(load_image(path)).texts
                if texts:
                    claims = booking_token.parse_claims(booking_token.split(texts[0]).signed)
                    slot = claims.booking.slot_start
            except (CameraError, ValueError):
                slot = None  # not a booking: shown in name order
            self._slots[path] = slot
        return self._slots[path]

    def _set_temperature(self) -> None:
        roll = self.rng.random()
        self._profile = "fever" if roll < 0.03 else "fever_once" if roll < 0.08 else "normal"
        value = 37.9 if self._profile != "normal" else self.rng.uniform(36.0, 37.0)
        self.thermometer.set_object(round(value, 1))
        self._after_rest_c = (
            round(self.rng.uniform(36.4, 37.0), 1) if self._profile == "fever_once" else None
        )
