"""The debouncer turns randomized bounce trains into exactly one change per real transition."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dropbox_agent.domain.debounce import Debouncer, Settled

SETTLE = 0.005

# A bounce gap is shorter than the settle time; a hold is longer. Times in seconds.
gaps = st.floats(min_value=1e-6, max_value=SETTLE * 0.99)
holds = st.floats(min_value=SETTLE * 1.01, max_value=2.0)
trains = st.lists(gaps, min_size=0, max_size=12).map(lambda g: g[: len(g) - len(g) % 2])


@st.composite
def presses(draw: st.DrawFn) -> list[tuple[list[float], float, list[float], float]]:
    """Envelopes: (bounces on blocking, hold, bounces on clearing, gap before the next)."""
    count = draw(st.integers(min_value=1, max_value=30))
    return [(draw(trains), draw(holds), draw(trains), draw(holds)) for _ in range(count)]


def _feed(
    deb: Debouncer, t: float, active: bool, bounces: list[float], out: list[Settled]
) -> tuple[float, float]:
    """Drive one transition with its bounce train; returns (time of the last edge, time now)."""
    level = active
    out.extend(deb.edge(t, level))
    for gap in bounces:
        t += gap
        level = not level
        out.extend(deb.edge(t, level))
    assert level == active  # trains have an even length: they end on the new level
    return t, t


@given(presses())
@settings(max_examples=300, deadline=None)
def test_each_bounced_press_settles_exactly_once_each_way(
    plan: list[tuple[list[float], float, list[float], float]],
) -> None:
    """GIVEN envelopes whose edges chatter (gaps shorter than the settle time)
    WHEN the raw edges are fed with their times
    THEN each envelope yields one 'blocked' and one 'clear', dated at the last bounce."""
    deb = Debouncer(SETTLE, active=False, t0=0.0)
    out: list[Settled] = []
    t = 1.0
    expected: list[Settled] = []
    for block_bounces, hold, clear_bounces, rest in plan:
        last, t = _feed(deb, t, True, block_bounces, out)
        expected.append(Settled(last, True))
        t += hold
        last, t = _feed(deb, t, False, clear_bounces, out)
        expected.append(Settled(last, False))
        t += rest
        out.extend(deb.advance(t))
    assert out == expected


@given(st.lists(gaps, min_size=1, max_size=40), st.booleans())
def test_a_glitch_train_that_returns_to_the_stable_level_produces_nothing(
    bounces: list[float], start: bool
) -> None:
    deb = Debouncer(SETTLE, active=start, t0=0.0)
    t, level, out = 1.0, start, []
    for gap in bounces:
        level = not level
        out.extend(deb.edge(t, level))
        t += gap
    if level != start:
        out.extend(deb.edge(t, start))  # end back at the stable level
    out.extend(deb.advance(t + 10))
    assert out == []
    assert deb.stable == start


def test_nothing_is_pending_once_settled_and_deadline_tracks_the_last_edge() -> None:
    deb = Debouncer(0.01, active=False, t0=0.0)
    assert deb.deadline() is None
    assert deb.edge(1.0, True) == []
    assert deb.deadline() == pytest.approx(1.01)
    assert deb.advance(1.009) == []
    assert deb.advance(1.01) == [Settled(1.0, True)]
    assert deb.deadline() is None


def test_zero_settle_time_commits_at_once_and_late_edges_are_clamped() -> None:
    deb = Debouncer(0.0, active=False, t0=5.0)
    assert deb.edge(6.0, True) == [Settled(6.0, True)]
    # An edge stamped before the previous one (another thread) is treated as simultaneous.
    assert deb.edge(5.5, False) == [Settled(6.0, False)]


def test_negative_settle_time_is_refused() -> None:
    with pytest.raises(ValueError, match="settle_s"):
        Debouncer(-0.1, active=False, t0=0.0)
