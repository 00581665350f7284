"""Slow start and the adaptive re-send timer of the uplink sender."""

from __future__ import annotations

from uplink.pacing import Pacing


def make() -> Pacing:
    return Pacing(initial_window=4, max_window=10, min_timeout_s=1.0, max_timeout_s=10.0)


def test_each_ack_widens_the_window_up_to_the_cap() -> None:
    pacing = make()
    assert pacing.window == 4
    for _ in range(3):
        pacing.on_ack(0.002)
    assert pacing.window == 7
    for _ in range(20):
        pacing.on_ack(0.002)
    assert pacing.window == 10


def test_a_new_session_starts_small_again() -> None:
    pacing = make()
    for _ in range(5):
        pacing.on_ack(0.002)
    pacing.restart()
    assert pacing.window == 4


def test_timeout_follows_measured_acks_within_bounds() -> None:
    pacing = make()
    assert pacing.timeout_s == 1.0  # nothing measured yet: the short first timer
    for _ in range(50):
        pacing.on_ack(0.9)
    assert 3.0 < pacing.timeout_s <= 3.6  # about four smoothed round trips
    for _ in range(50):
        pacing.on_ack(0.001)
    assert pacing.timeout_s == 1.0  # never below the floor
    for _ in range(50):
        pacing.on_ack(30.0)
    assert pacing.timeout_s == 10.0  # never above ack_timeout_s


def test_resent_events_do_not_skew_the_timer() -> None:
    pacing = make()
    pacing.on_ack(0.5)
    before = pacing.timeout_s
    pacing.on_ack(None)  # acked after a re-send: which send was it?
    assert pacing.timeout_s == before
    assert pacing.window == 6


def test_expiry_backs_off_and_shrinks_the_window() -> None:
    pacing = make()
    for _ in range(6):
        pacing.on_ack(0.01)
    timeouts = []
    for _ in range(6):
        pacing.on_expiry()
        timeouts.append(pacing.timeout_s)
    assert timeouts == [2.0, 4.0, 8.0, 10.0, 10.0, 10.0]
    assert pacing.window == 4
