"""The temperature gate: stable readings, the forehead offset, one retry after a rest, referral."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.temperature import (
    GatePhase,
    GateResult,
    Outcome,
    Reading,
    TemperatureGate,
    TemperaturePolicy,
)

POLICY = TemperaturePolicy(sample_interval_s=0.1, attempt_timeout_s=8, retry_rest_s=20)


def run(
    policy: TemperaturePolicy, readings: Iterable[float | str], *, after_rest: float | None = None
) -> tuple[GateResult, TemperatureGate]:
    """Feed readings (a string is a sensor fault code) on a simulated clock until decided."""
    gate = TemperatureGate(policy, 0.0)
    now = 0.0
    queue = list(readings)
    for _ in range(10_000):
        if gate.result is not None:
            return gate.result, gate
        if gate.due(now):
            if gate.phase is GatePhase.MEASURING and gate.attempts == 2 and after_rest is not None:
                value: float | str = after_rest
            else:
                value = queue.pop(0) if len(queue) > 1 else queue[0]
            if isinstance(value, str):
                gate.feed_fault(value, now)
            else:
                gate.feed(Reading(value, 26.0), now)
        else:
            gate.poll(now)
        now = gate.wake_at() if gate.wake_at() > now else now + 0.05
    raise AssertionError("the gate never decided")


def test_a_normal_forehead_passes_after_three_stable_samples() -> None:
    result, _ = run(POLICY, [36.4, 36.5, 36.5])

    assert result.outcome is Outcome.PASSED
    assert result.attempts == 1
    assert result.temperature_c == 36.5


def test_the_threshold_itself_is_too_high() -> None:
    result, gate = run(POLICY, [37.5])

    assert result.outcome is Outcome.REFERRED
    assert gate.attempts == 2


def test_the_forehead_offset_is_added_before_the_threshold() -> None:
    policy = TemperaturePolicy(forehead_offset_c=1.2)

    result, _ = run(policy, [36.4])

    assert result.outcome is Outcome.REFERRED
    assert result.temperature_c == 37.6


def test_high_once_then_normal_after_the_rest_passes() -> None:
    result, _ = run(POLICY, [38.1], after_rest=36.9)

    assert result.outcome is Outcome.PASSED
    assert result.attempts == 2


def test_the_rest_lasts_the_configured_time_before_measuring_again() -> None:
    gate = TemperatureGate(POLICY, 0.0)
    for i in range(3):
        gate.feed(Reading(38.0, 26.0), i * 0.1)

    assert gate.phase is GatePhase.RESTING
    assert gate.wake_at() == pytest.approx(0.2 + 20)
    assert not gate.due(20.1)
    assert gate.due(20.3)
    assert gate.attempts == 2


def test_unstable_readings_do_not_decide() -> None:
    gate = TemperatureGate(POLICY, 0.0)
    for i, value in enumerate([36.0, 36.9, 36.2, 37.1, 36.1]):
        assert gate.feed(Reading(value, 26.0), i * 0.1) is None
    assert gate.result is None


def test_nobody_in_front_of_the_sensor_times_out_as_unavailable() -> None:
    result, gate = run(POLICY, [24.0])

    assert result.outcome is Outcome.UNAVAILABLE
    assert result.reason == "no_stable_reading"
    assert not gate.present


def test_a_hot_object_is_not_a_forehead() -> None:
    result, _ = run(POLICY, [55.0])

    assert result.outcome is Outcome.UNAVAILABLE


def test_a_failing_sensor_is_unavailable_with_its_fault_code() -> None:
    result, _ = run(POLICY, ["error_flag"])

    assert result.outcome is Outcome.UNAVAILABLE
    assert result.reason == "sensor_fault"
    assert result.fault_code == "error_flag"


def test_a_passing_glitch_is_forgiven() -> None:
    result, _ = run(POLICY, ["bad_checksum", 36.6, 36.6, 36.6])

    assert result.outcome is Outcome.PASSED


def test_an_ambient_reading_out_of_range_counts_as_a_fault() -> None:
    gate = TemperatureGate(POLICY, 0.0)
    for i in range(100):
        gate.feed(Reading(36.5, 60.0), i * 0.1)

    assert gate.result is not None
    assert gate.result.outcome is Outcome.UNAVAILABLE
    assert gate.result.fault_code == "ambient_out_of_range"


def test_no_stable_reading_on_the_retry_keeps_the_high_first_one() -> None:
    result, _ = run(POLICY, [38.0], after_rest=20.0)

    assert result.outcome is Outcome.REFERRED
    assert result.temperature_c == 38.0


def test_a_policy_that_cannot_work_is_refused() -> None:
    with pytest.raises(ValueError, match="stable_samples"):
        TemperaturePolicy(stable_samples=0)
    with pytest.raises(ValueError, match="presence_min_c"):
        TemperaturePolicy(presence_min_c=45.0, plausible_max_c=43.0)


@given(st.lists(st.floats(30.0, 43.0), min_size=1, max_size=30))
def test_the_gate_always_decides_and_never_passes_a_high_stable_reading(
    values: list[float],
) -> None:
    result, _ = run(POLICY, values)

    assert result.attempts in (1, 2)
    if result.outcome is Outcome.PASSED:
        assert result.temperature_c is not None and result.temperature_c < POLICY.threshold_c
    if result.outcome is Outcome.REFERRED:
        assert result.attempts == 2
