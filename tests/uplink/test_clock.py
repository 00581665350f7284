"""The simulated clock every part of a simulation shares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from uplink.clock import ManualClock, SimulatedClock, SystemClock, real_s


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 500.0

    def __call__(self) -> float:
        return self.t


def test_a_simulated_clock_starts_at_its_instant_and_runs_speed_times_faster() -> None:
    real = FakeMonotonic()
    wib = timezone(timedelta(hours=7))
    start = datetime(2026, 11, 30, 23, 50, tzinfo=wib)

    clock = SimulatedClock(start, 60.0, real_monotonic=real)
    assert clock.now() == start
    assert clock.now().tzinfo is UTC
    real.t += 20.0  # twenty real seconds: twenty simulated minutes, across WIB midnight

    assert clock.now() == datetime(2026, 12, 1, 0, 10, tzinfo=wib)
    assert clock.elapsed_s() == pytest.approx(1200.0)
    assert clock.monotonic() == pytest.approx(500.0 + 1200.0)
    assert clock.real_s(600.0) == pytest.approx(10.0)
    assert clock.synced()


def test_real_timers_keep_the_simulated_date_with_real_seconds() -> None:
    real = FakeMonotonic()
    clock = SimulatedClock(datetime(2026, 6, 15, 1, 0, tzinfo=UTC), 100.0, real_monotonic=real)
    timers = clock.with_real_timers()
    real.t += 3.0

    assert timers.monotonic() == 503.0
    assert timers.now() == clock.now() == datetime(2026, 6, 15, 1, 5, tzinfo=UTC)
    assert timers.synced()


def test_a_simulated_clock_refuses_a_naive_start_or_no_speed() -> None:
    with pytest.raises(ValueError, match="positive"):
        SimulatedClock(datetime(2026, 6, 15, 1, 0, tzinfo=UTC), 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        SimulatedClock(datetime(2026, 6, 15, 8, 0), 2.0)


def test_a_jump_moves_the_wall_clock_only() -> None:
    real = FakeMonotonic()
    clock = SimulatedClock(datetime(2026, 6, 15, 1, 0, tzinfo=UTC), 10.0, real_monotonic=real)
    before = clock.monotonic()

    clock.jump(3600)
    assert clock.now() == datetime(2026, 6, 15, 2, 0, tzinfo=UTC)
    clock.jump(-3600)
    real.t += 1.0

    assert clock.now() == datetime(2026, 6, 15, 1, 0, 10, tzinfo=UTC)
    assert clock.monotonic() == pytest.approx(before + 10.0)
    assert clock.with_real_timers().now() == clock.now()


def test_real_s_asks_the_clock_for_its_speed() -> None:
    """Devices never carry a `speed`: a simulated clock says how long its seconds take."""
    simulated = SimulatedClock(
        datetime(2026, 6, 15, 1, 0, tzinfo=UTC), 20.0, real_monotonic=FakeMonotonic()
    )
    assert real_s(simulated, 10.0) == pytest.approx(0.5)
    assert real_s(ManualClock(), 10.0) == 10.0
    assert real_s(SystemClock(assume_synced=True), 10.0) == 10.0
