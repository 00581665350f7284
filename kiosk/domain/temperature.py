"""The temperature gate: a stable forehead reading, a calibrated offset, a retry, a referral."""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    """How the gate ended for one participant."""

    PASSED = "passed"
    REFERRED = "referred"  # above the threshold twice: no ticket, told what to do instead
    UNAVAILABLE = "unavailable"  # no usable reading: the sensor failed or nobody held still


class GatePhase(StrEnum):
    """Where the temperature gate stands (the screen's phases are `kiosk.domain.screens.Phase`)."""

    MEASURING = "measuring"
    RESTING = "resting"  # above the threshold once: a short rest, then measure again
    DONE = "done"


@dataclass(frozen=True)
class Reading:
    """One raw sample from the thermometer, degrees Celsius."""

    object_c: float
    ambient_c: float


@dataclass(frozen=True)
class TemperaturePolicy:
    """How readings become a decision. Field meanings match `kiosk.config.ThermometerConfig`."""

    threshold_c: float = 37.5
    forehead_offset_c: float = 0.0
    stable_samples: int = 3
    stable_span_c: float = 0.3
    sample_interval_s: float = 0.1
    presence_min_c: float = 30.0
    plausible_max_c: float = 43.0
    ambient_min_c: float = 10.0
    ambient_max_c: float = 40.0
    attempt_timeout_s: float = 8.0
    retry_rest_s: float = 20.0

    def __post_init__(self) -> None:
        if self.stable_samples < 1:
            raise ValueError("stable_samples must be at least 1")
        if self.presence_min_c >= self.plausible_max_c:
            raise ValueError("presence_min_c must be below plausible_max_c")


@dataclass(frozen=True)
class GateResult:
    """The gate's decision.

    Attributes:
        outcome: passed, referred or unavailable.
        attempts: measuring attempts made (1, or 2 after a rest).
        temperature_c: the last stable, offset-corrected temperature (None if never stable).
        reason: for unavailable: ``sensor_fault`` or ``no_stable_reading``; else "".
        fault_code: the last sensor fault code seen, if any.
    """

    outcome: Outcome
    attempts: int
    temperature_c: float | None
    reason: str = ""
    fault_code: str = ""


class TemperatureGate:
    """The measuring procedure for one participant, driven by an external clock.

    The caller asks `due(now)` whether a sample is wanted, reads the sensor, and passes the
    reading to `feed()` or the failure to `feed_fault()`. `result` is set once decided.
    """

    def __init__(self, policy: TemperaturePolicy, now: float) -> None:
        self.policy = policy
        self.phase = GatePhase.MEASURING
        self.attempts = 1
        self.result: GateResult | None = None
        self.present = False  # a forehead is in front of the sensor (for the screen's prompt)
        self._window: deque[float] = deque(maxlen=policy.stable_samples)
        self._attempt_started = now
        self._next_sample = now
        self._rest_until = 0.0
        self._last_temperature: float | None = None
        self._faults = 0
        self._fault_code = ""

    def due(self, now: float) -> bool:
        """True when the caller should read the sensor now."""
        self._advance(now)
        return self.phase is GatePhase.MEASURING and now >= self._next_sample

    def wake_at(self) -> float:
        """The monotonic time of the next thing this gate waits for."""
        if self.phase is GatePhase.RESTING:
            return self._rest_until
        return min(self._next_sample, self._attempt_started + self.policy.attempt_timeout_s)

    def deadline(self) -> float:
        """When the current phase ends by itself: the end of the rest, or the attempt's timeout."""
        if self.phase is GatePhase.RESTING:
            return self._rest_until
        return self._attempt_started + self.policy.attempt_timeout_s

    def feed(self, reading: Reading, now: float) -> GateResult | None:
        """Take one sample; returns the result once the gate has decided."""
        if self.phase is not GatePhase.MEASURING:
            return self.result
        policy = self.policy
        self._next_sample = now + policy.sample_interval_s
        if not policy.ambient_min_c <= reading.ambient_c <= policy.ambient_max_c:
            return self.feed_fault("ambient_out_of_range", now)
        if not policy.presence_min_c <= reading.object_c <= policy.plausible_max_c:
            # Nobody in front (or a hot object): wait for a forehead, start the window again.
            self.present = False
            self._window.clear()
            return self._check_timeout(now)
        self.present = True
        self._window.append(reading.object_c)
        if len(self._window) == policy.stable_samples:
            if max(self._window) - min(self._window) <= policy.stable_span_c:
                return self._decide(statistics.median(self._window) + policy.forehead_offset_c, now)
        return self._check_timeout(now)

    def feed_fault(self, code: str, now: float) -> GateResult | None:
        """Record a failed sensor read (missing device, error flag, bad checksum)."""
        if self.phase is not GatePhase.MEASURING:
            return self.result
        self._faults += 1
        self._fault_code = code
        self._window.clear()
        self._next_sample = now + self.policy.sample_interval_s
        return self._check_timeout(now)

    def poll(self, now: float) -> GateResult | None:
        """Let time pass without a sample (timeouts, end of the rest)."""
        self._advance(now)
        if self.phase is GatePhase.MEASURING:
            return self._check_timeout(now)
        return self.result

    def _advance(self, now: float) -> None:
        if self.phase is GatePhase.RESTING and now >= self._rest_until:
            self.phase = GatePhase.MEASURING
            self.attempts += 1
            self._attempt_started = now
            self._next_sample = now
            self._window.clear()

    def _decide(self, temperature: float, now: float) -> GateResult | None:
        temperature = round(temperature, 2)
        self._last_temperature = temperature
        if temperature < self.policy.threshold_c:
            return self._finish(Outcome.PASSED)
        if self.attempts == 1:
            self.phase = GatePhase.RESTING
            self._rest_until = now + self.policy.retry_rest_s
            self._window.clear()
            self.present = False
            return None
        return self._finish(Outcome.REFERRED)

    def _check_timeout(self, now: float) -> GateResult | None:
        if now - self._attempt_started < self.policy.attempt_timeout_s:
            return None
        if self.attempts > 1 and self._last_temperature is not None:
            # The retry found no stable reading: the first, high one stands.
            return self._finish(Outcome.REFERRED)
        reason = "sensor_fault" if self._faults else "no_stable_reading"
        return self._finish(Outcome.UNAVAILABLE, reason)

    def _finish(self, outcome: Outcome, reason: str = "") -> GateResult:
        self.phase = GatePhase.DONE
        self.result = GateResult(
            outcome, self.attempts, self._last_temperature, reason, self._fault_code
        )
        return self.result
