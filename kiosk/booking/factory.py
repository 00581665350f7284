"""Wiring the booking parts from a BookingConfig (the only place that picks them)."""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from kiosk.booking.cache import BookingCache
from kiosk.booking.config import BookingConfig
from kiosk.booking.ledger import CheckinLedger
from kiosk.booking.model import Verdict
from kiosk.booking.verifier import BookingVerifier, Rules
from uplink.booking.trustlist import load_anchor
from uplink.clock import Clock
from uplink.errors import StorageError

if TYPE_CHECKING:
    import requests

    from kiosk.booking.lookup import CodeLookup
    from kiosk.booking.refresh import TrustRefresh
    from kiosk.booking.sync import BookingSync


def rules_from(config: BookingConfig) -> Rules:
    """The verifier's rules from the config."""
    return Rules(
        branch=config.branch,
        zone=config.zone,
        early_tolerance=timedelta(minutes=config.early_tolerance_min),
        late_tolerance=timedelta(minutes=config.late_tolerance_min),
        clock_skew=timedelta(seconds=config.clock_skew_s),
    )


def open_cache(config: BookingConfig) -> BookingCache:
    """The on-disk cache (trust list and synced documents) named by the config."""
    anchors = [load_anchor(text) for text in config.trust_anchors]
    try:
        return BookingCache(config.trust_list_path, config.cache_dir, anchors, config.branch)
    except OSError as exc:  # a folder that is a file, a trust list that is a folder...
        where = exc.filename or config.cache_dir
        why = "a file, not a folder" if exc.errno == errno.EEXIST else exc.strerror or str(exc)
        raise StorageError(
            f"booking cache: {where}: {why}; check "
            "booking.cache_dir (a folder) and booking.trust_list_path (a file) in the config"
        ) from exc


def build_verifier(
    config: BookingConfig,
    *,
    ledger: CheckinLedger | None = None,
    cache: BookingCache | None = None,
    clock: Clock | None = None,
) -> BookingVerifier:
    """A verifier over the config's cache and ledger (opened here unless given); with
    `clock`, dates are not held against a participant while it is not synchronised."""
    return BookingVerifier(
        rules_from(config),
        cache if cache is not None else open_cache(config),
        ledger if ledger is not None else CheckinLedger(config.ledger_path),
        clock_synced=clock.synced if clock is not None else None,
    )


def online_checks(
    config: BookingConfig, verifier: BookingVerifier, cache: BookingCache, clock: Clock
) -> tuple[Callable[[str, datetime], Verdict], Callable[[str, datetime], Verdict]]:
    """The typed-code lookup and the scanned-token check that first fetches the trust list for
    a key the kiosk does not hold; they share one rate-limited refresh (both talk HTTP)."""
    from kiosk.booking.lookup import CodeLookup  # requests is loaded only when wiring HTTP
    from kiosk.booking.refresh import TrustRefresh

    refresh = TrustRefresh(config, cache, verifier, clock=clock)
    return CodeLookup(config, verifier, cache, refresh=refresh).lookup, refresh.verify


@dataclass(frozen=True)
class BookingServices:
    """Everything the kiosk needs for bookings, sharing one cache and one ledger."""

    config: BookingConfig
    cache: BookingCache
    ledger: CheckinLedger
    verifier: BookingVerifier
    sync: BookingSync
    lookup: CodeLookup
    refresh: TrustRefresh

    def close(self) -> None:
        """Close the ledger."""
        self.ledger.close()


def open_booking(
    config: BookingConfig,
    *,
    clock: Clock | None = None,
    session: requests.Session | None = None,
) -> BookingServices:
    """Open cache and ledger and build verifier, sync, trust-list refresh and typed-code lookup.

    Args:
        config: The kiosk's `[booking]` table.
        clock: Time for sync bookkeeping (default: the system clock).
        session: A requests session to use for both sync and lookup (default: one each, with
            the config's retries).
    """
    from kiosk.booking.lookup import CodeLookup  # requests is loaded only when wiring HTTP
    from kiosk.booking.refresh import TrustRefresh
    from kiosk.booking.sync import BookingSync

    cache = open_cache(config)
    ledger = CheckinLedger(config.ledger_path)
    verifier = build_verifier(config, ledger=ledger, cache=cache)
    refresh = TrustRefresh(config, cache, verifier, session=session, clock=clock)
    return BookingServices(
        config=config,
        cache=cache,
        ledger=ledger,
        verifier=verifier,
        sync=BookingSync(config, cache, ledger, session=session, clock=clock),
        lookup=CodeLookup(config, verifier, cache, session=session, refresh=refresh),
        refresh=refresh,
    )
