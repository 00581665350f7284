"""Verifying a scanned token: signature first, then the branch's rules, ending in a Verdict."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Protocol

from cryptography.exceptions import InvalidSignature

from kiosk.booking import reasons
from kiosk.booking.ledger import CheckinRecord
from kiosk.booking.model import Verdict
from uplink.booking import token
from uplink.booking.trustlist import TrustedKey, TrustList

logger = logging.getLogger(__name__)


class BookingFacts(Protocol):
    """What the verifier needs to know beyond the token (the cache, or fixed facts in tests)."""

    def trust_list(self) -> TrustList | None: ...

    def is_cancelled(self, booking_id: str) -> bool: ...


class CheckinState(Protocol):
    """Which bookings were checked in (the ledger)."""

    def record(self, booking_id: str) -> CheckinRecord | None: ...


@dataclass(frozen=True)
class Rules:
    """The branch's rules for accepting a booking."""

    branch: str
    zone: tzinfo
    early_tolerance: timedelta = timedelta(minutes=30)
    late_tolerance: timedelta = timedelta(minutes=30)
    clock_skew: timedelta = timedelta(minutes=5)


class BookingVerifier:
    """Turns scanned text into a Verdict; never raises on any input text.

    Order: prefix, size and encoding; key id in the trust list; key not withdrawn; Ed25519
    signature. Only then are claims read: key period, issue time, cancelled, branch, day,
    already checked in, token expiry, slot window.

    The slot window with its tolerances decides the day: a 23:00-23:59 booking shown at 00:05
    is late by minutes, not "for yesterday". While `clock_synced()` says the wall clock cannot
    be trusted (a Pi after a power cut without network), no booking is refused for its date or
    time: it is accepted for a staff check ("ok" with the "staff_check" wording) and logged.
    """

    def __init__(
        self,
        rules: Rules,
        facts: BookingFacts,
        checkins: CheckinState,
        *,
        clock_synced: Callable[[], bool] | None = None,
    ) -> None:
        self.rules = rules
        self.facts = facts
        self.checkins = checkins
        self._clock_synced = clock_synced or (lambda: True)

    def verify(self, text: str, now: datetime) -> Verdict:
        """Verify a token read from a QR code (or fetched for a typed code) at time `now`.

        Args:
            text: The decoded QR text, untrusted and possibly garbage.
            now: The current time, timezone-aware.

        Raises:
            ValueError: `now` is naive (a programming error, not a participant's).
        """
        if now.tzinfo is None:
            raise ValueError("verify() needs a timezone-aware `now`")
        try:
            signed = token.split(text)
        except token.TokenError as exc:
            logger.info("token rejected: %s (%s)", exc.reason, exc)
            return reasons.verdict(exc.reason)
        trust = self.facts.trust_list()
        if trust is None:
            return reasons.verdict("no_trust_list")
        key = trust.key(signed.kid)
        if key is None:
            logger.info("token rejected: key %s is not in trust list %d", signed.kid.hex(),
                        trust.sequence)  # fmt: skip
            return reasons.verdict("unknown_key")
        if key.withdrawn_at is not None:
            logger.warning("token signed by withdrawn key %s presented", signed.kid.hex())
            return reasons.verdict("key_withdrawn")
        try:
            key.public_key.verify(signed.signature, signed.message())
        except InvalidSignature:
            logger.warning("token with a bad signature for key %s presented", signed.kid.hex())
            return reasons.verdict("bad_signature")
        # From here on the bytes are the issuer's own.
        try:
            claims = token.parse_claims(signed.signed)
        except token.TokenError as exc:
            logger.error("signed token has bad content (issuer fault): %s", exc)
            return reasons.verdict("bad_content")
        return self._rules(claims, key, now)

    def _rules(self, claims: token.Claims, key: TrustedKey, now: datetime) -> Verdict:
        booking, rules = claims.booking, self.rules
        if not key.signed_in_period(claims.issued_at):
            return reasons.verdict("key_not_valid", booking)
        if self.facts.is_cancelled(booking.booking_id):
            return reasons.verdict("cancelled", booking)
        if booking.branch != rules.branch:
            return reasons.verdict("wrong_branch", booking)
        record = self.checkins.record(booking.booking_id)
        if record is not None:
            at = record.at.astimezone(booking.slot_start.tzinfo)
            return reasons.verdict(
                "already_checked_in",
                booking,
                checked_in_id=f" pukul {reasons.time_id(at)}",
                checked_in_en=f" at {reasons.time_en(at)}",
            )
        refusal = self._time_refusal(claims, now)
        if refusal is None:
            return reasons.verdict("ok", booking)
        if self._clock_synced():
            return refusal
        logger.warning(
            "booking %s accepted for a staff check: the clock is not synchronised (by the "
            "clock it would be refused: %s)",
            booking.booking_id,
            refusal.reason,
        )
        return reasons.verdict("ok", booking, "staff_check")

    def _time_refusal(self, claims: token.Claims, now: datetime) -> Verdict | None:
        """The refusal the wall clock gives (issue time, day, expiry, window), if any."""
        booking, rules = claims.booking, self.rules
        if claims.issued_at > now + rules.clock_skew:
            return reasons.verdict("not_yet_valid", booking)
        earliest = booking.slot_start - rules.early_tolerance
        latest = booking.slot_end + rules.late_tolerance
        booked_day = booking.slot_start.astimezone(rules.zone).date()
        days = (booked_day - now.astimezone(rules.zone).date()).days
        if days and not earliest <= now <= latest:  # the tolerances reach across midnight
            variant = {1: "tomorrow", -1: "yesterday"}.get(days, "later" if days > 0 else "earlier")
            return reasons.verdict("wrong_day", booking, variant)
        if now > claims.expires_at:
            return reasons.verdict("expired", booking)
        if now < earliest:
            return reasons.verdict(
                "too_early",
                booking,
                earliest_id=reasons.time_id(earliest),
                earliest_en=reasons.time_en(earliest),
            )
        if now > latest:
            return reasons.verdict("too_late", booking)
        return None
