"""The box's retained state message, published when it changes and at most every
`STATE_INTERVAL_S` real seconds (a burst of inputs sends its last state, not each one)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from uplink import EventSink

STATE_INTERVAL_S = 0.5  # real seconds between retained state messages, at most


class StatePublisher:
    """Publishes the state given on each pass when it changed, coalescing bursts.

    Args:
        events: where the state goes (`EventSink.publish_state`).
    """

    def __init__(self, events: EventSink) -> None:
        self.events = events
        self._published: Mapping[str, Any] | None = None
        self._last_publish = -float("inf")
        self.due: float | None = None
        """Real (`time.monotonic`) time a coalesced state is due, or None when none waits."""

    def publish(self, state: Mapping[str, Any], *, force: bool = False) -> None:
        """Publish `state` now if it changed (or `force`) and the last one is old enough;
        otherwise note when it is due (`due`), for the loop's next pass to send."""
        if not force and state == self._published:
            self.due = None
            return
        now = time.monotonic()
        if not force and now - self._last_publish < STATE_INTERVAL_S:
            self.due = self._last_publish + STATE_INTERVAL_S  # coalesce bursts
            return
        self.events.publish_state(state)
        self._published, self._last_publish, self.due = state, now, None
