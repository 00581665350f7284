"""Check-ins kiosks reported through the uplink, copied from the event store into the day lists."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from backoffice.bookings.store import BookingStore
from backoffice.store import SqliteEventStore

logger = logging.getLogger(__name__)

# How far from its slot a check-in may say it happened (a kiosk's clock may be off by hours, not
# by days): anything else is not written into the day lists kiosks read.
SLOT_MARGIN = timedelta(days=1)

_CURSOR = "event_store_cursor"


class CheckinImporter:
    """Reads new check-in events (by rowid cursor) and records them as booking check-ins."""

    def __init__(
        self, events: SqliteEventStore, store: BookingStore, event_types: list[str]
    ) -> None:
        self.events = events
        self.store = store
        self.event_types = set(event_types)

    def import_new(self, batch: int = 1000) -> int:
        """Copy check-ins that arrived since the last call; returns how many were new."""
        cursor = int(self.store.meta(_CURSOR) or 0)
        added = 0
        while True:
            rows = self.events.events_after(cursor, limit=batch)
            if not rows:
                break
            found = []
            for row in rows:
                booking_id = row.payload.get("booking_id")
                if row.type in self.event_types and isinstance(booking_id, str):
                    at = self._checkin_time(row.event_id, booking_id, row.occurred_at)
                    if at is not None:
                        found.append((booking_id, row.device_id, at))
            added += self.store.add_checkins(found)
            cursor = rows[-1].rowid
            self.store.set_meta(_CURSOR, str(cursor))
        return added

    def _checkin_time(self, event_id: str, booking_id: str, occurred_at: str) -> datetime | None:
        """When a check-in happened, if it is a real time near its booking's slot, else None."""
        try:
            at = datetime.fromisoformat(occurred_at)
        except ValueError:
            at = None
        stored = self.store.booking(booking_id)
        if at is None or at.tzinfo is None or stored is None:
            logger.warning("check-in event %s: bad time or unknown booking; skipped", event_id)
            return None
        slot = stored.booking
        if not slot.slot_start - SLOT_MARGIN <= at <= slot.slot_end + SLOT_MARGIN:
            logger.warning("check-in event %s is a day or more off its slot; skipped", event_id)
            return None
        return at
