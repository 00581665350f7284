"""A token signed by a key this kiosk does not hold: fetch the trust list once, then verify again.

After the back office rotates to a key it published too late (or a kiosk was off while it was
published), the first participant with a new token would be told their QR is not genuine. So a
verdict of `unknown_key` makes the kiosk ask the booking API for the trust list (conditional GET,
the lookup's short timeouts and few retries), install it if it verifies against the anchors and
is not older than the one held, and verify again.

Bounded: one fetch at a time, and at most one per `unknown_key_refresh_s` (a stream of forged
tokens with made-up key ids costs the back office one request per interval per kiosk); callers
that arrive during a fetch wait for it and use its result. Offline, the participant gets
`key_unknown_offline` (this kiosk cannot check the code now: ask the officer), not "not genuine".
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

import requests

from kiosk.booking import http, reasons
from kiosk.booking.cache import BookingCache
from kiosk.booking.config import BookingConfig
from kiosk.booking.model import Verdict
from kiosk.booking.verifier import BookingVerifier
from uplink.booking.trustlist import TrustListError
from uplink.clock import Clock, SystemClock

logger = logging.getLogger(__name__)

TRUST_LIST_PATH = "/v1/trust-list"


def fetch_trust_list(
    session: requests.Session, config: BookingConfig, cache: BookingCache, now: datetime
) -> str:
    """GET the trust list (If-None-Match with the cached ETag) and install a newer one.

    Returns:
        "updated" or "not_modified".

    Raises:
        http.ApiUnavailable: no API, unreachable, or an answer other than 200/304.
        TrustListError: the list does not verify or is older than the one held (cache kept).
    """
    response = http.get(session, config, TRUST_LIST_PATH, etag=cache.etag("trust_list"))
    if response.status_code == 304:
        cache.touch("trust_list", now)
        return "not_modified"
    if response.status_code != 200:
        raise http.ApiUnavailable(f"{TRUST_LIST_PATH}: HTTP {response.status_code}")
    installed = cache.store_trust_list(response.content, response.headers.get("ETag"), now)
    logger.info("trust list %d installed (%d keys)", installed.sequence, len(installed.keys))
    return "updated"


class TrustRefresh:
    """Verifies like the verifier, fetching the trust list once for an unknown signing key.

    Use it where the kiosk may wait for the network: the engine calls it off its thread
    (`CheckinEngine(refresh=...)`), the typed-code lookup calls it in its own background job.
    """

    def __init__(
        self,
        config: BookingConfig,
        cache: BookingCache,
        verifier: BookingVerifier,
        *,
        session: requests.Session | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.cache = cache
        self.verifier = verifier
        self._session = session or http.make_session(config, retries=config.lookup_retries)
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._last_attempt: float | None = None
        self._last_ok = False
        self.fetches = 0
        """How many times the trust list was asked for (for tests and the state message)."""

    def verify(self, text: str, now: datetime) -> Verdict:
        """The verifier's verdict; for `unknown_key`, after fetching the trust list once (a
        kiosk with no `api_base_url` gets the verifier's verdict as it is)."""
        verdict = self.verifier.verify(text, now)
        if verdict.reason != "unknown_key" or self.config.api_base_url is None:
            return verdict
        if not self.refresh(now):
            return reasons.verdict("key_unknown_offline")
        return self.verifier.verify(text, now)

    def refresh(self, now: datetime) -> bool:
        """Fetch the trust list unless one was fetched in the last `unknown_key_refresh_s`.

        Returns:
            Whether the kiosk now holds the back office's current list: True after a fetch
            that succeeded (updated or not modified) and when a fetch within the interval did;
            False when the API is not configured or could not be reached or verified.
        """
        if self.config.api_base_url is None:
            return False
        with self._lock:  # one fetch at a time; a second caller waits and reuses its result
            started = self._clock.monotonic()
            last = self._last_attempt
            if last is not None and started - last < self.config.unknown_key_refresh_s:
                return self._last_ok
            self._last_attempt = started
            self.fetches += 1
            try:
                outcome = fetch_trust_list(self._session, self.config, self.cache, now)
            except (http.ApiUnavailable, TrustListError) as exc:
                logger.warning("trust list refresh for an unknown signing key failed: %s", exc)
                self._last_ok = False
                return False
            logger.info("trust list refreshed for an unknown signing key: %s", outcome)
            self._last_ok = True
            return True
