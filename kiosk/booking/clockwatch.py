"""The kiosk's clock trust made visible: an alert while unsynchronised, a fault on each change."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from uplink.clock import Clock
from uplink.errors import StorageError

logger = logging.getLogger(__name__)

ALERT = "JAM BELUM SINKRON: tanggal dicek petugas / clock not synchronised: staff check dates"
Record = Callable[[str, Mapping[str, Any]], object]


class ClockWatch:
    """Asked with every state message (`state()`); records `device.fault` clock/unsynchronised
    when the clock stops being trusted and again when it is trusted once more.

    Args:
        clock: the kiosk's clock (its `synced()` is the truth).
        record: how events are recorded (the uplink's `record`).
    """

    def __init__(self, clock: Clock, record: Record) -> None:
        self._clock = clock
        self._record = record
        self._fault_active = False  # as last recorded

    @property
    def synced(self) -> bool:
        return self._clock.synced()

    def state(self) -> dict[str, Any]:
        """Extra for the retained state message: the alert while unsynchronised."""
        synced = self._clock.synced()
        if synced == self._fault_active:  # changed since last recorded
            self._report(active=not synced)
        return {} if synced else {"alerts": [ALERT]}

    def _report(self, *, active: bool) -> None:
        detail = (
            "bookings are accepted without date checks (staff check them) until NTP answers"
            if active
            else "synchronised again"
        )
        try:
            self._record(
                "device.fault",
                {
                    "component": "clock",
                    "code": "unsynchronised",
                    "active": active,
                    "detail": detail,
                },
            )
        except StorageError as exc:  # said again with the next state message
            logger.warning("clock fault not recorded yet: %s", exc)
            return
        self._fault_active = active
        if active:
            logger.warning("clock not synchronised: %s", detail)
        else:
            logger.info("clock synchronised again")
