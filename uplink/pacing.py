"""How many events the sender may leave unacked, and how long it waits before re-sending one."""

from __future__ import annotations


class Pacing:
    """Slow start and an adaptive re-send timer for application acks (TCP's ideas, per event).

    Events published before a back-office receiver is subscribed are dropped by the broker
    (shared subscriptions queue nothing for an absent group), and after a broker restart the
    devices usually reconnect first. So after every (re)connect only `initial_window` events
    may be unacked; each ack widens the window by one (doubling per round trip) up to
    `max_window`. The re-send timeout is four smoothed ack round trips, clamped to
    [`min_timeout_s`, `max_timeout_s`]; each expiry doubles it and shrinks the window again,
    so an absent back office costs a trickle of re-sends, not a flood.
    """

    def __init__(
        self, initial_window: int, max_window: int, min_timeout_s: float, max_timeout_s: float
    ) -> None:
        self.initial_window = min(initial_window, max_window)
        self.max_window = max_window
        self.min_timeout_s = min(min_timeout_s, max_timeout_s)
        self.max_timeout_s = max_timeout_s
        self.window = self.initial_window
        self.timeout_s = self.min_timeout_s
        self.smoothed_rtt_s: float | None = None

    def restart(self) -> None:
        """A new session: nothing is known to be listening yet."""
        self.window = self.initial_window

    def on_ack(self, rtt_s: float | None) -> None:
        """One event acked; `rtt_s` is its send-to-ack time, None if it had been re-sent
        (such a sample is ambiguous: which send was acked?)."""
        self.window = min(self.max_window, self.window + 1)
        if rtt_s is None:
            return
        if self.smoothed_rtt_s is None:
            self.smoothed_rtt_s = rtt_s
        else:
            self.smoothed_rtt_s += (rtt_s - self.smoothed_rtt_s) / 8
        self.timeout_s = min(self.max_timeout_s, max(self.min_timeout_s, 4 * self.smoothed_rtt_s))

    def on_expiry(self) -> None:
        """Some event went unacked for `timeout_s`: back off."""
        self.timeout_s = min(self.max_timeout_s, self.timeout_s * 2)
        self.window = self.initial_window
