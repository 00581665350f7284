"""Typed booking codes: fetch the booking's signed token online (or from the day list offline)."""

from __future__ import annotations

import logging
from datetime import datetime

import requests

from kiosk.booking import http, reasons
from kiosk.booking.cache import BookingCache
from kiosk.booking.config import BookingConfig
from kiosk.booking.model import Verdict
from kiosk.booking.refresh import TrustRefresh
from kiosk.booking.verifier import BookingVerifier
from uplink.booking import codes

logger = logging.getLogger(__name__)


class CodeLookup:
    """Checks a typed booking code; the answer is a token, verified like a scanned one."""

    def __init__(
        self,
        config: BookingConfig,
        verifier: BookingVerifier,
        cache: BookingCache,
        *,
        session: requests.Session | None = None,
        refresh: TrustRefresh | None = None,
    ) -> None:
        """Build the lookup; nothing is fetched until `lookup`.

        Args:
            config: The kiosk's `[booking]` table.
            verifier: Verifies the token the lookup answers with.
            cache: The synced day list, for codes looked up offline.
            session: A requests session (default: one with `lookup_retries`).
            refresh: Fetches the trust list when the token's key is not held (default: none).
        """
        self.config = config
        self.verifier: BookingVerifier | TrustRefresh = refresh or verifier
        self.cache = cache
        self._session = session or http.make_session(config, retries=config.lookup_retries)

    def lookup(self, typed: str, now: datetime) -> Verdict:
        """Look a typed code up and verify the booking it names.

        Returns:
            "bad_code" (typo caught by the check character), "code_not_found", "lookup_offline"
            (back office unreachable and the code is not in the synced day list), or the
            verifier's verdict on the booking's token.
        """
        try:
            code = codes.normalize(typed)
        except codes.BookingCodeError:
            return reasons.verdict("bad_code")
        try:
            response = http.get(self._session, self.config, f"/v1/bookings/{code}")
        except http.ApiUnavailable as exc:
            logger.info("code lookup offline (%s); trying the synced day list", exc)
            return self._offline(code, now)
        if response.status_code == 404:
            return reasons.verdict("code_not_found")
        answer = _answer(response) if response.status_code == 200 else None
        if answer is None:
            logger.warning("code lookup got HTTP %s without a token", response.status_code)
            return self._offline(code, now)
        text, cancelled, checkins = answer
        verdict = self.verifier.verify(text, now)
        # The back office may know more than this kiosk's last sync: a fresh cancellation, or a
        # check-in at another kiosk. Both only narrow an acceptance, never widen a refusal.
        if verdict.booking is not None and verdict.booking.booking_id != code:
            # A genuine token, but for another booking: a server fault, or someone else's QR.
            logger.warning("code lookup answered with the token of another booking")
            return reasons.verdict("code_not_found")
        if not verdict.accepted or verdict.booking is None:
            return verdict
        if cancelled:
            return reasons.verdict("cancelled", verdict.booking)
        if checkins:
            at = min(checkins).astimezone(verdict.booking.slot_start.tzinfo)
            return reasons.verdict(
                "already_checked_in",
                verdict.booking,
                checked_in_id=f" pukul {reasons.time_id(at)}",
                checked_in_en=f" at {reasons.time_en(at)}",
            )
        return verdict

    def _offline(self, code: str, now: datetime) -> Verdict:
        text = self.cache.token_for(code)
        if text is None:
            return reasons.verdict("lookup_offline")
        return self.verifier.verify(text, now)


def _answer(response: requests.Response) -> tuple[str, bool, list[datetime]] | None:
    """(token, cancelled, check-in times) from a lookup answer; None when it is malformed."""
    try:
        data = response.json()
        text = data["token"]
        checkins = [datetime.fromisoformat(c["at"]) for c in data.get("checkins") or ()]
        cancelled = data.get("cancelled_at") is not None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not isinstance(text, str) or any(at.tzinfo is None for at in checkins):
        return None
    return text, cancelled, checkins
