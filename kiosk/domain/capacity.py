"""Branch occupancy as the back office publishes it (retained MQTT), and what the kiosk makes of it.

Payload on ``uplink.topics.occupancy(branch)`` (JSON)::

    {"inside": 37, "capacity": 40, "at": "2026-01-05T02:00:00.000Z",
     "waiting": {"JHT": 12, "JKK": 1}}        # "at" and "waiting" are optional

`waiting` (people in the queue per service) improves the "people ahead" line on tickets. The
message is parsed by the uplink against `occupancy.v1.json` (`uplink.inbound.parse_occupancy`);
the runtime hands the kiosk only reports that passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Occupancy:
    """One occupancy report."""

    inside: int
    capacity: int
    at: datetime | None = None
    waiting: Mapping[str, int] = field(default_factory=dict)

    @property
    def full(self) -> bool:
        return self.inside >= self.capacity


class OccupancyView:
    """The latest occupancy report, trusted only while fresh (a stale 'full' must not turn people
    away forever; a stale 'not full' must not let them crowd in)."""

    def __init__(self, max_age_s: float) -> None:
        self.max_age = timedelta(seconds=max_age_s)
        self._latest: Occupancy | None = None
        self._received_at: datetime | None = None

    def update(self, occupancy: Occupancy, received_at: datetime) -> None:
        self._latest = occupancy
        self._received_at = received_at

    def current(self, now: datetime) -> Occupancy | None:
        """The report if fresh (by its own `at`, else by when it arrived), else None."""
        if self._latest is None or self._received_at is None:
            return None
        stamp = self._latest.at or self._received_at
        if now - stamp > self.max_age:
            return None
        return self._latest

    def is_full(self, now: datetime) -> bool:
        current = self.current(now)
        return current is not None and current.full
