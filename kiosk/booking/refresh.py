"""A token signed by a key this kiosk does not hold: fetch the trust list once, then verify again.

After the back office rotates to a key it published too late (or a kiosk was off while it was
published), the first participant with a new token would be told their QR is not genuine. So a
verdict of `unknown_key` makes the kiosk ask the booking API for the trust list (conditional GET,
the lookup's short timeouts and few retries), install it if it verifies against the anchors and
is not older than the one held, and verify again.

Bounded: one fetch at a time, and at most one per `unknown_key_refresh_s` (a stream of forged
tokens with made-up key ids costs the back office one request per interval per kiosk); callers
that arrive during a fetch wait for it and use its result. Offline, the participant gets
`key_unknown_offline` (this kiosk cannot check the code now: ask the officer), and within the
interval after a fetch `key_unknown_retry` (try again in a moment), never "not genuine" unless
the list was fetched for this very token.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Literal

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
        self._generation = 0  # fetches finished: a caller that waited for one takes its result
        self.fetches = 0
        """How many times the trust list was asked for (for tests and the state message)."""

    def verify(self, text: str, now: datetime) -> Verdict:
        """The verifier's verdict; for `unknown_key`, after fetching the trust list once (a
        kiosk with no `api_base_url` gets the verifier's verdict as it is).

        A key still unknown after a fetch is `unknown_key` (not genuine); after no fetch, because
        one was made less than `unknown_key_refresh_s` ago, `key_unknown_retry` (try again in a
        moment); when the back office cannot be reached, `key_unknown_offline`.
        """
        verdict = self.verifier.verify(text, now)
        if verdict.reason != "unknown_key" or self.config.api_base_url is None:
            return verdict
        outcome = self.refresh(now)
        verdict = self.verifier.verify(text, now)  # the list held now, however it came
        if verdict.reason != "unknown_key" or outcome == "fetched":
            return verdict
        return reasons.verdict(
            "key_unknown_retry" if outcome == "recent" else "key_unknown_offline"
        )

    def refresh(self, now: datetime) -> Literal["fetched", "recent", "failed"]:
        """Fetch the trust list unless one was fetched in the last `unknown_key_refresh_s`.

        Returns:
            "fetched": the kiosk holds the back office's current list (a fetch succeeded, this
            caller's or one that ended while it waited); "recent": no fetch, the last one being
            too recent; "failed": the back office could not be reached or its list not verified.
        """
        seen = self._generation
        with self._lock:  # one fetch at a time; a caller that waited takes the result
            if self._generation != seen:
                return "fetched" if self._last_ok else "failed"
            started = self._clock.monotonic()
            last = self._last_attempt
            if last is not None and started - last < self.config.unknown_key_refresh_s:
                return "recent" if self._last_ok else "failed"
            self._last_attempt = started
            self.fetches += 1
            try:
                outcome = fetch_trust_list(self._session, self.config, self.cache, now)
            except (http.ApiUnavailable, TrustListError) as exc:
                logger.warning("trust list refresh for an unknown signing key failed: %s", exc)
                self._last_ok = False
                return "failed"
            finally:
                self._generation += 1
            logger.info("trust list refreshed for an unknown signing key: %s", outcome)
            self._last_ok = True
            return "fetched"
