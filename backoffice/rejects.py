"""Bounded rejects: what a hostile device sends costs the back office a few hundred bytes, at most
so many times a minute, and one log line a minute, however much it sends."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

RAW_PREFIX_BYTES = 512
REASON_CHARS = 300
# Per device: a burst, then a steady rate. A healthy device sends no rejects at all.
BURST = 20
PER_MINUTE = 20.0
LOG_INTERVAL_S = 60.0


@dataclass(frozen=True)
class Reject:
    """One message refused, ready to be kept: a bounded prefix, its hash and its size."""

    topic: str
    raw_prefix: bytes
    reason: str

    @classmethod
    def of(cls, topic: str, raw: bytes, reason: str) -> Reject:
        digest = hashlib.sha256(raw).hexdigest()
        short = reason if len(reason) <= REASON_CHARS else reason[:REASON_CHARS] + "..."
        return cls(
            topic[:200],
            raw[:RAW_PREFIX_BYTES],
            f"{short} [{len(raw)} bytes, sha256 {digest}]",
        )


@dataclass
class _Bucket:
    tokens: float
    at: float
    suppressed: int = 0
    logged_at: float | None = None


@dataclass
class RejectGate:
    """Decides, per sender, whether a reject is kept and whether it is logged.

    Args:
        monotonic: the clock (injected: tests step it by hand).
    """

    monotonic: Callable[[], float] = time.monotonic
    burst: int = BURST
    per_minute: float = PER_MINUTE
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def admit(self, sender: str) -> bool:
        """True when a reject from `sender` may be stored now (token bucket)."""
        now = self.monotonic()
        bucket = self._buckets.get(sender)
        if bucket is None:
            if len(self._buckets) > 100_000:  # a flood of made-up senders: start over
                self._buckets.clear()
            bucket = self._buckets[sender] = _Bucket(float(self.burst), now)
        bucket.tokens = min(
            float(self.burst), bucket.tokens + (now - bucket.at) * self.per_minute / 60.0
        )
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False

    def log(self, sender: str, what: str, reason: str) -> None:
        """Log one warning per sender per LOG_INTERVAL_S; count the others into the next one."""
        now = self.monotonic()
        bucket = self._buckets.setdefault(sender, _Bucket(float(self.burst), now))
        if bucket.logged_at is not None and now - bucket.logged_at < LOG_INTERVAL_S:
            bucket.suppressed += 1
            return
        more = f" (and {bucket.suppressed} more since the last report)" if bucket.suppressed else ""
        short = reason if len(reason) <= REASON_CHARS else reason[:REASON_CHARS] + "..."
        logger.warning("rejected %s from %r: %s%s", what, sender[:80], short, more)
        bucket.logged_at = now
        bucket.suppressed = 0
