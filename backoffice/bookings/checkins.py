"""Check-ins kiosks reported through the uplink, copied from the event store into the day lists."""

from __future__ import annotations

import logging
from datetime import datetime

from backoffice.bookings.store import BookingStore
from backoffice.store import SqliteEventStore

logger = logging.getLogger(__name__)

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
                    try:
                        at = datetime.fromisoformat(row.occurred_at)
                    except ValueError:
                        logger.warning("check-in event %s has a bad time; skipped", row.event_id)
                        continue
                    found.append((booking_id, row.device_id, at))
            added += self.store.add_checkins(found)
            cursor = rows[-1].rowid
            self.store.set_meta(_CURSOR, str(cursor))
        return added
