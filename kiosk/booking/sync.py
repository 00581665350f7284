"""Keeping the offline cache current: trust list, cancellations and the day's bookings, by ETag."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import requests

from kiosk.booking import http
from kiosk.booking.cache import BookingCache, CacheError
from kiosk.booking.config import BookingConfig
from kiosk.booking.ledger import CheckinLedger, Duplicate
from kiosk.booking.refresh import fetch_trust_list
from uplink.booking.trustlist import TrustListError
from uplink.clock import Clock, SystemClock

logger = logging.getLogger(__name__)

_BAD_SEEN_LIMIT = 100
LEDGER_KEEP_DAYS = 7
"""Check-ins older than this are pruned at each sync: tokens that old fail the day rule anyway."""


@dataclass
class SyncReport:
    """The outcome of one sync round.

    Attributes:
        outcomes: Per document: "updated", "not_modified" or "failed".
        errors: Per failed document, what went wrong (no personal data).
        remote_checkins: Check-ins at other kiosks newly added to the ledger.
        duplicates: Bookings found checked in here and at another kiosk (report them upstream).
    """

    outcomes: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    remote_checkins: int = 0
    duplicates: list[Duplicate] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every document was synced."""
        return not self.errors


class BookingSync:
    """Fetches the back office's booking documents with If-None-Match and installs them."""

    def __init__(
        self,
        config: BookingConfig,
        cache: BookingCache,
        ledger: CheckinLedger,
        *,
        session: requests.Session | None = None,
        clock: Clock | None = None,
        on_duplicate: Callable[[Duplicate], None] | None = None,
        on_bad_document: Callable[[str, str], None] | None = None,
    ) -> None:
        """Build the sync; nothing is fetched until `sync_once` or `run`.

        Args:
            config: The kiosk's `[booking]` table (API address, timeouts, retries, interval).
            cache: Where documents are installed.
            ledger: Receives other kiosks' check-ins from the day list.
            session: A requests session (default: one with the config's retries).
            clock: Time for cache ages (default: the system clock).
            on_duplicate: Called once per booking found checked in here and at another kiosk,
                e.g. to record an uplink event; an exception it raises is logged, not raised.
            on_bad_document: Called with (document kind, what is wrong) once per distinct bad
                document the API serves (the kiosk keeps its last good copy), e.g. to record a
                fault; an exception it raises is logged, not raised.
        """
        self.config = config
        self.cache = cache
        self.ledger = ledger
        self._session = session or http.make_session(config)
        self._clock = clock or SystemClock()
        self._on_duplicate = on_duplicate
        self._on_bad_document = on_bad_document
        self._bad_seen: set[bytes] = set()
        self.last_report: SyncReport | None = None

    def sync_once(self) -> SyncReport:
        """Fetch all three documents once; a failing one leaves its cached copy in place."""
        now = self._clock.now()
        report = SyncReport()
        branch = self.config.branch
        today = now.astimezone(self.config.zone).date().isoformat()
        steps = (
            ("trust_list", "/v1/trust-list", None, "", self._install_trust_list),
            ("cancellations", f"/v1/branches/{branch}/cancellations", None, "",
             self._install_cancellations),
            ("bookings", f"/v1/branches/{branch}/bookings", {"date": today}, today,
             self._install_bookings),
        )  # fmt: skip
        for kind, path, params, key, install in steps:
            body = b""
            try:
                response = http.get(
                    self._session, self.config, path, etag=self.cache.etag(kind, key), params=params
                )
                if response.status_code == 304:
                    self.cache.touch(kind, now)
                    report.outcomes[kind] = "not_modified"
                    continue
                if response.status_code != 200:
                    raise http.ApiUnavailable(f"{path}: HTTP {response.status_code}")
                body = response.content
                install(body, response.headers.get("ETag"), now, report)
                report.outcomes[kind] = "updated"
            except (TrustListError, CacheError) as exc:  # the document itself is bad
                report.outcomes[kind] = "failed"
                report.errors[kind] = str(exc)
                self._bad_document(kind, body, str(exc))
            except http.ApiUnavailable as exc:
                report.outcomes[kind] = "failed"
                report.errors[kind] = str(exc)
                logger.warning("booking sync of %s failed: %s", kind, exc)
        pruned = self.ledger.prune(now - timedelta(days=LEDGER_KEEP_DAYS))
        if pruned:
            logger.info("%d check-in(s) older than %d days pruned", pruned, LEDGER_KEEP_DAYS)
        self.last_report = report
        return report

    def _bad_document(self, kind: str, body: bytes, reason: str) -> None:
        """Log and report a bad document once per content: it comes back every round."""
        digest = hashlib.sha256(kind.encode() + b"\0" + body).digest()
        if digest in self._bad_seen:
            logger.debug("the same bad %s again; still keeping the last good one", kind)
            return
        if len(self._bad_seen) >= _BAD_SEEN_LIMIT:
            self._bad_seen.clear()
        self._bad_seen.add(digest)
        logger.warning(
            "booking %s from the back office ignored, keeping the last good one: %s", kind, reason
        )
        if self._on_bad_document is None:
            return
        try:
            self._on_bad_document(kind, reason)
        except Exception:
            logger.exception("bad-document handler failed")

    def sync_trust_list(self) -> str:
        """Fetch the trust list alone (between full syncs, so a withdrawal arrives soon).

        Returns:
            "updated", "not_modified" or "failed" (the full sync logs why; this stays quiet).
        """
        try:
            return fetch_trust_list(self._session, self.config, self.cache, self._clock.now())
        except (http.ApiUnavailable, TrustListError, CacheError) as exc:
            logger.debug("trust list fetch failed: %s", exc)
            return "failed"

    def run(self, stop: threading.Event) -> None:
        """Sync everything every `sync_interval_s`, and the trust list alone every
        `trust_list_interval_s` in between, until `stop` is set (run it in its own thread)."""
        config = self.config
        wait_s = min(config.trust_list_interval_s, config.sync_interval_s)
        rounds_per_sync = max(1, round(config.sync_interval_s / wait_s))
        round_no = 0
        while not stop.is_set():
            try:
                if round_no % rounds_per_sync == 0:
                    self.sync_once()
                else:
                    self.sync_trust_list()
            except Exception:
                logger.exception("booking sync round failed; retrying next round")
            round_no += 1
            stop.wait(wait_s)

    def state(self) -> dict[str, Any]:
        """Cache facts for the kiosk's retained state and screen.

        Returns:
            `cache_age_s` (None: never synced), `cache_age_id`/`cache_age_en` (the line a kiosk
            screen shows), `trust_list_sequence`, `duplicates` (cross-kiosk, so far) and
            `alerts` (short strings for `backoffice watch`).
        """
        now = self._clock.now()
        age = self.cache.cache_age_s(now)
        trust = self.cache.trust_list()
        duplicates = len(self.ledger.duplicates())
        alerts = []
        if trust is None:
            alerts.append("no booking trust list: QR codes cannot be verified")
        if age is None:
            alerts.append("booking cache never synced")
        elif age > self.config.cache_stale_after_s:
            alerts.append(f"booking cache is {int(age // 60)} min old")
        if duplicates:
            alerts.append(f"{duplicates} booking(s) checked in at two kiosks")
        age_id, age_en = describe_age(age)
        return {
            "cache_age_s": None if age is None else round(age, 1),
            "cache_age_id": age_id,
            "cache_age_en": age_en,
            "trust_list_sequence": None if trust is None else trust.sequence,
            "duplicates": duplicates,
            "alerts": alerts,
        }

    def _install_trust_list(
        self, body: bytes, etag: str | None, now: datetime, report: SyncReport
    ) -> None:
        installed = self.cache.store_trust_list(body, etag, now)
        logger.info("trust list %d installed (%d keys)", installed.sequence, len(installed.keys))

    def _install_cancellations(
        self, body: bytes, etag: str | None, now: datetime, report: SyncReport
    ) -> None:
        self.cache.store_cancellations(body, etag, now)

    def _install_bookings(
        self, body: bytes, etag: str | None, now: datetime, report: SyncReport
    ) -> None:
        day = self.cache.store_bookings(body, etag, now)
        merged = self.ledger.merge_remote(day.checkins, self.config.kiosk_id)
        report.remote_checkins += merged.added
        report.duplicates.extend(merged.duplicates)
        for duplicate in merged.duplicates:
            if self._on_duplicate is None:
                continue
            try:
                self._on_duplicate(duplicate)
            except Exception:
                logger.exception("duplicate check-in handler failed")


def bad_document_fault(
    record: Callable[[str, dict[str, Any]], object],
) -> Callable[[str, str], None]:
    """An `on_bad_document` handler recording a `device.fault` with `record` (the uplink's)."""

    def report(kind: str, reason: str) -> None:
        detail = f"bad {kind} ignored, last good one kept: {reason}"[:500]
        record(
            "device.fault",
            {"component": "booking", "code": "bad_document", "active": True, "detail": detail},
        )

    return report


def describe_age(age_s: float | None) -> tuple[str, str]:
    """How old the booking data is, for the kiosk screen (Bahasa Indonesia, English)."""
    if age_s is None:
        return ("Data pemesanan belum pernah diperbarui.", "Booking data has never been updated.")
    minutes = int(max(age_s, 0) // 60)
    if minutes < 1:
        return ("Data pemesanan baru saja diperbarui.", "Booking data updated just now.")
    if minutes < 120:
        return (
            f"Data pemesanan diperbarui {minutes} menit lalu.",
            f"Booking data updated {minutes} min ago.",
        )
    hours = minutes // 60
    return (
        f"Data pemesanan diperbarui {hours} jam lalu.",
        f"Booking data updated {hours} hours ago.",
    )
