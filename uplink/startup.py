"""Start-up lines: what a service waits for, said once; ready, said once; quiet while waiting.

A device service (kiosk, dropbox) logs one line when it starts, naming everything it waits for
(the broker at host:port, the camera, the printer, booking data), and one line when all of it
is there. While it waits it says nothing per retry; what is still missing is repeated at most
once a minute. The broker is the uplink's to report (`Uplink` warns about an unreachable broker
at most once a minute itself), so it is left out of the reminders; a device that can serve
without it says so once ("serving offline").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from uplink.clock import Clock

logger = logging.getLogger(__name__)

REMIND_EVERY_S = 60.0
"""A part still missing is named again at most this often (s)."""
CHECK_EVERY_S = 1.0
"""How often the watch looks at what it waits for (real seconds)."""


@dataclass(frozen=True)
class Wait:
    """One thing a service waits for at start.

    Attributes:
        name: What a person reads: "the broker at 10.0.0.2:8883", "the camera (picamera2)".
        met: True once it is there; called from the watch's thread, so it must be cheap and
            thread-safe, and it is not called again once it held.
        needed_to_serve: False for what the service can serve without (the broker: events stay
            in the outbox); such a wait gets no reminder of its own.
    """

    name: str
    met: Callable[[], bool]
    needed_to_serve: bool = True


class StartupReport:
    """Says what `service` waits for, then that it is ready, once each.

    Args:
        service: The service and its id as a person reads it, e.g. "kiosk jakarta-salemba-kiosk-1".
        waits: What it waits for, in the order to name them.
        clock: Times the reminders (a `ManualClock` in tests).
    """

    def __init__(self, service: str, waits: Sequence[Wait], clock: Clock) -> None:
        self.service = service
        self.waits = list(waits)
        self._clock = clock
        self._met: set[str] = set()
        self._began_at: float | None = None
        self._reminded_at = 0.0
        self._serving_said = False
        self.ready = False
        self._thread: threading.Thread | None = None

    def begin(self) -> None:
        """The start line: everything the service waits for (said once: later calls do
        nothing)."""
        if self._began_at is not None:
            return
        self._began_at = self._reminded_at = self._clock.monotonic()
        if self.waits:
            waiting = ", ".join(w.name for w in self.waits)
            logger.info("%s starting; waiting for %s", self.service, waiting)
        else:
            logger.info("%s starting", self.service)

    def missing(self) -> list[Wait]:
        """What is not there yet."""
        return [w for w in self.waits if w.name not in self._met]

    def check(self) -> bool:
        """Look at every part still missing; say ready (or serving offline) once, and remind
        of what is missing at most once a minute. Returns True once ready."""
        if self.ready:
            return True
        if self._began_at is None:
            self.begin()
        for wait in self.missing():
            if _holds(wait):
                self._met.add(wait.name)
        missing = self.missing()
        if not missing:
            self.ready = True
            have = ", ".join(w.name for w in self.waits) or "nothing to wait for"
            logger.info("%s ready: %s", self.service, have)
            return True
        needed = [w for w in missing if w.needed_to_serve]
        if not needed and not self._serving_said:
            self._serving_said = True
            logger.info(
                "%s serving without %s so far (events stay on the device until it answers)",
                self.service,
                ", ".join(w.name for w in missing),
            )
        now = self._clock.monotonic()
        if needed and now - self._reminded_at >= REMIND_EVERY_S:
            self._reminded_at = now
            logger.warning(
                "%s still waiting for %s (%.0f s since start)",
                self.service,
                ", ".join(w.name for w in needed),
                now - (self._began_at if self._began_at is not None else now),
            )
        return False

    def watch(self, stop: threading.Event, every_s: float = CHECK_EVERY_S) -> None:
        """Say the start line now (unless `begin` did), then check on a thread of its own until
        ready or `stop`."""
        self.begin()

        def loop() -> None:
            while not stop.is_set() and not self.check():
                stop.wait(every_s)

        self._thread = threading.Thread(target=loop, name="startup-report", daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> None:
        """Wait for the watch's thread to end (after ready or stop)."""
        if self._thread is not None:
            self._thread.join(timeout)


def _holds(wait: Wait) -> bool:
    try:
        return wait.met()
    except Exception:  # a check that fails means "not yet": the part's own code reports why
        logger.debug("start-up check of %s failed", wait.name, exc_info=True)
        return False
