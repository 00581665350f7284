"""Clock-driven debouncing of one digital input: a level counts once it has held for `settle_s`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settled:
    """A debounced change: the input settled at `active` from time `at` (its last raw edge)."""

    at: float
    active: bool


class Debouncer:
    """Settle-time debouncer fed with timestamped raw edges.

    A raw level becomes the stable level once no further edge arrives for `settle_s`; the change
    is dated at the raw edge that started the quiet period. A bounce train that returns to the
    stable level before settling produces nothing. Time only moves through `edge()` and
    `advance()`, so tests drive it with any clock.

    Args:
        settle_s: how long a level must hold to count, seconds (0 commits at once).
        active: the level at `t0`, taken as stable.
        t0: the monotonic time of that reading.
    """

    def __init__(self, settle_s: float, active: bool, t0: float) -> None:
        if settle_s < 0:
            raise ValueError(f"settle_s must be >= 0, got {settle_s}")
        self.settle_s = settle_s
        self.raw = active
        self.stable = active
        self.last_edge = t0
        self._pending = False

    def edge(self, t: float, active: bool) -> list[Settled]:
        """Feed one raw edge at monotonic time `t`; returns the changes that settled before it."""
        t = max(t, self.last_edge)  # callbacks from another thread may arrive a hair out of order
        settled = self.advance(t)
        if active == self.raw:
            return settled
        self.raw = active
        self.last_edge = t
        self._pending = active != self.stable
        if self._pending and self.settle_s == 0:
            settled.extend(self.advance(t))
        return settled

    def advance(self, now: float) -> list[Settled]:
        """Commit the pending level if it has held long enough by `now`."""
        deadline = self.deadline()
        if deadline is None or now < deadline:
            return []
        self.stable = self.raw
        self._pending = False
        return [Settled(self.last_edge, self.stable)]

    def deadline(self) -> float | None:
        """When the pending level will settle, or None when the input is quiet."""
        return self.last_edge + self.settle_s if self._pending else None
