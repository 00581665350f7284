"""Check-ins kiosks reported through the uplink, copied from the event store into the day lists.

Only a check-in from a registered kiosk of the booking's own branch is taken (the device's
branch comes from the registry its certificate was recorded in, never from the payload): a
stolen dropbox or another branch's kiosk can send `kiosk.checkin.accepted` for any booking, and
the event is still stored, but the booking is not marked used.

A check-in from a device the registry does not know yet (a kiosk provisioned after the last
export) is kept aside in memory and taken again when the registry changes; a restart forgets
those (at most `UNREGISTERED_KEPT`): export the registry when a kiosk is provisioned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from backoffice.bookings.config import BookingsConfig
from backoffice.bookings.store import BookingStore
from backoffice.rejects import RejectGate
from backoffice.store import EventRow, SqliteEventStore
from uplink.registry import DeviceRegistry, RegistryFile

logger = logging.getLogger(__name__)

# How far from its slot a check-in may say it happened (a kiosk's clock may be off by hours, not
# by days): anything else is not written into the day lists kiosks read.
SLOT_MARGIN = timedelta(days=1)

_CURSOR = "event_store_cursor"
UNREGISTERED_KEPT = 10_000


class CheckinEvents(Protocol):
    """What the import reads: stored events in commit order (both event stores have it)."""

    def events_after(
        self, rowid: int = 0, limit: int = 100, type_prefix: str = ""
    ) -> list[EventRow]: ...

    def close(self) -> None: ...


class CheckinImporter:
    """Reads new check-in events (by rowid cursor) and records them as booking check-ins.

    Args:
        events: the receiver's event store.
        store: the booking database.
        event_types: event types that mean "booking checked in".
        registry: the device registry as it is now (called per import: it follows its file).
    """

    def __init__(
        self,
        events: CheckinEvents,
        store: BookingStore,
        event_types: list[str],
        registry: Callable[[], DeviceRegistry],
    ) -> None:
        self.events = events
        self.store = store
        self.event_types = set(event_types)
        self.registry = registry
        self.refused = 0
        """Check-ins not taken because they did not come from a kiosk of the booking's branch."""
        self._gate = RejectGate()
        self._registry_seen: DeviceRegistry | None = None
        # Check-ins from devices the registry did not list when they came: tried again when it
        # changes (a new kiosk's first check-ins often arrive before its registry export).
        self._unregistered: list[EventRow] = []

    def import_new(self, batch: int = 1000) -> int:
        """Copy check-ins that arrived since the last call; returns how many were new."""
        cursor = int(self.store.meta(_CURSOR) or 0)
        registry = self.registry()
        added = 0
        if registry is not self._registry_seen:
            self._registry_seen = registry
            added += self._retry_unregistered(registry)
        while True:
            rows = self.events.events_after(cursor, limit=batch)
            if not rows:
                break
            found = []
            for row in rows:
                booking_id = row.payload.get("booking_id")
                if row.type in self.event_types and isinstance(booking_id, str):
                    at = self._checkin_time(row, booking_id, registry)
                    if at is not None:
                        found.append((booking_id, row.device_id, at))
            added += self.store.add_checkins(found)
            cursor = rows[-1].rowid
            self.store.set_meta(_CURSOR, str(cursor))
        return added

    def _retry_unregistered(self, registry: DeviceRegistry) -> int:
        waiting, self._unregistered = self._unregistered, []
        found = []
        for row in waiting:
            booking_id = str(row.payload["booking_id"])
            at = self._checkin_time(row, booking_id, registry, retry=True)
            if at is not None:
                found.append((booking_id, row.device_id, at))
        return self.store.add_checkins(found) if found else 0

    def _checkin_time(
        self, row: EventRow, booking_id: str, registry: DeviceRegistry, *, retry: bool = False
    ) -> datetime | None:
        """When a check-in happened, if a kiosk of the booking's branch reported it at a real
        time near its booking's slot, else None."""
        try:
            at = datetime.fromisoformat(row.occurred_at)
        except ValueError:
            at = None
        stored = self.store.booking(booking_id)
        if at is None or at.tzinfo is None or stored is None:
            logger.warning("check-in event %s: bad time or unknown booking; skipped", row.event_id)
            return None
        slot = stored.booking
        if registry.kiosk_branch(row.device_id) != slot.branch:
            if registry.get(row.device_id) is None and len(self._unregistered) < UNREGISTERED_KEPT:
                self._unregistered.append(row)
            if not retry:
                self._refuse(row, registry)
            return None
        if not slot.slot_start - SLOT_MARGIN <= at <= slot.slot_end + SLOT_MARGIN:
            logger.warning("check-in event %s is a day or more off its slot; skipped", row.event_id)
            return None
        return at

    def _refuse(self, row: EventRow, registry: DeviceRegistry) -> None:
        self.refused += 1
        device = registry.get(row.device_id)
        what = (
            "an unregistered device"
            if device is None
            else f"a {device.role} of branch {device.branch}"
        )
        # One line a minute per device, counting the rest: a forger must not flood the log.
        self._gate.log(
            row.device_id,
            "check-in",
            f"event {row.event_id} comes from {what}, not a kiosk of its booking's branch; "
            f"the booking is not marked used ({self.refused} refused since start)",
        )


def make_importer(
    config: BookingsConfig, store: BookingStore, registry: RegistryFile | None = None
) -> CheckinImporter | None:
    """The configured check-in import (None when no event store is configured).

    Args:
        registry: the registry file to follow (default: config.device_registry_path's).
    """
    events = open_checkin_events(config)
    if events is None:
        return None
    if registry is None:
        if config.device_registry_path is None:  # the config's validator demands one
            events.close()
            raise ValueError("an event store needs device_registry_path")
        registry = RegistryFile(config.device_registry_path)
    return CheckinImporter(events, store, config.checkin_event_types, registry.current)


def open_checkin_events(config: BookingsConfig) -> CheckinEvents | None:
    """The configured event store to import check-ins from (None: no receiver here)."""
    if config.event_store_url is not None:
        # Imported here: SQLite-only installs never load psycopg.
        from backoffice.pgstore import PostgresEventStore

        return PostgresEventStore(config.event_store_url.get_secret_value(), key="event_store_url")
    if config.event_store_path is not None:
        return SqliteEventStore(config.event_store_path)
    return None
