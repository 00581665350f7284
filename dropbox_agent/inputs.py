"""What the adapters' threads hand the loop: GPIO edges, keypad and scanner lines, the back office's
counts and fill readings, each turned into a machine input on the thread that received it."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable

from dropbox_agent.config import CollectionConfig
from dropbox_agent.domain import events as vocabulary
from dropbox_agent.domain.auth import find_officer, parse_line
from dropbox_agent.domain.model import (
    Authorization,
    BookingScanned,
    CountEntered,
    Edge,
    FillReading,
    Input,
    MachineInput,
)
from dropbox_agent.ports import FillSensor
from uplink import Clock, Uplink, inbound
from uplink.clock import real_s

logger = logging.getLogger(__name__)

COUNT_COMMAND = "collection-count"  # lapak/v1/dev/{device}/cmd/collection-count
_SAFE_BOOKING = re.compile(r"^[A-Za-z0-9-]{4,64}$")  # what the deposit schema accepts

Submit = Callable[[MachineInput], None]
"""Hands one input to the agent's loop (any thread)."""


class InputFeed:
    """Turns what the box's adapters and the uplink deliver into timestamped machine inputs.

    Args:
        collection: who may collect and what a booking reference looks like.
        clock: dates the inputs.
        submit: the agent's queue.
        uplink: where a bad command from the back office is reported (None: not reported).
    """

    def __init__(
        self,
        collection: CollectionConfig,
        *,
        clock: Clock,
        submit: Submit,
        uplink: Uplink | None,
    ) -> None:
        self._officers = collection.officer_list()
        self._booking_re = re.compile(collection.booking_ref_pattern)
        self._clock, self._submit, self._uplink = clock, submit, uplink
        self._count_handler = inbound.InboundGuard(self._report_bad_inbound).handler(
            COUNT_COMMAND, inbound.parse_collection_count, self._on_count
        )

    def on_edge(self, name: Input, active: bool, t: float) -> None:
        """A raw GPIO edge (the GPIO thread)."""
        self._submit(Edge(t, name, active))

    def on_line(self, line: str) -> None:
        """A line typed on the keypad or read by the scanner (the keypad's thread)."""
        t = self._clock.monotonic()
        parsed = parse_line(line, self._booking_re)
        if parsed.kind == "pin" or parsed.kind == "badge":
            # PBKDF2 takes a moment: done here, in the keypad's thread, not in the loop.
            officer = find_officer(self._officers, parsed.kind, parsed.value)
            self._submit(Authorization(t, parsed.kind, officer))
        elif parsed.kind == "count":
            self._submit(CountEntered(t, int(parsed.value), "keypad"))
        elif parsed.kind == "booking" and _SAFE_BOOKING.match(parsed.value):
            self._submit(BookingScanned(t, parsed.value))
        else:
            logger.info("keypad/scanner line not recognized; ignored")

    def on_count_command(self, topic: str, payload: bytes) -> None:
        """A count sent by the back office, parsed by the uplink against the contract."""
        self._count_handler(topic, payload)

    def _report_bad_inbound(self, what: str, reason: str) -> None:
        if self._uplink is None:
            return
        detail = f"bad {what} message ignored: {reason}"
        fault = vocabulary.fault("uplink", "bad_inbound", True, detail)
        try:
            self._uplink.record(fault.type, fault.payload)
        except Exception:  # a fault report must never become a second fault
            logger.exception("could not record the bad-message fault")

    def _on_count(self, count: inbound.CollectionCount) -> None:
        self._submit(
            CountEntered(self._clock.monotonic(), count.counted, "backoffice", count.collection_id)
        )


class FillPoller:
    """Reads the fill sensor every `interval_s` clock seconds, or at once when woken.

    Args:
        fill: the ultrasonic sensor.
        interval_s: clock seconds between readings.
        clock: dates the readings.
        submit: the agent's queue.
    """

    def __init__(self, fill: FillSensor, *, interval_s: float, clock: Clock, submit: Submit):
        self._fill, self._interval_s, self._clock, self._submit = fill, interval_s, clock, submit
        self._wake = threading.Event()
        self._closing = threading.Event()

    def wake(self) -> None:
        """Read now instead of at the next interval."""
        self._wake.set()

    def stop(self) -> None:
        """Make `run` return (after the reading in progress, if any, without submitting it)."""
        self._closing.set()
        self._wake.set()

    def run(self) -> None:
        """Read until `stop` (the sensor's thread)."""
        interval_s = real_s(self._clock, self._interval_s)
        while not self._closing.is_set():
            try:
                reading = self._fill.read_distance_cm()
            except OSError as exc:
                logger.warning("fill sensor read failed: %s", exc)
                reading = None
            if self._closing.is_set():
                return
            self._submit(FillReading(self._clock.monotonic(), reading))
            self._wake.wait(interval_s)
            self._wake.clear()
