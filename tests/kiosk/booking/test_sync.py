"""Sync against the real back-office booking API on loopback: ETags, retries, timeouts, age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from backoffice.bookings import BookingApi
from kiosk.booking import BookingConfig, open_booking
from kiosk.booking.factory import BookingServices
from kiosk.booking.http import make_session
from kiosk.booking.ledger import Duplicate
from kiosk.booking.sync import BookingSync, describe_age
from tests.backoffice.bookings.helpers import (
    BackOffice,
    kiosk_config,
    make_backoffice,
)
from tests.kiosk.booking.scripted import ScriptedServer, Step, closed_port_url
from uplink.clock import ManualClock

# 09:10 WIB on the day of the bookings.
AT_DOOR = datetime(2020, 6, 15, 2, 10, tzinfo=UTC)


def _recording(config: BookingConfig) -> tuple[requests.Session, list[tuple[str, int, str]]]:
    """A session with the config's retries that records (path, status, If-None-Match)."""
    seen: list[tuple[str, int, str]] = []
    session = make_session(config)

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        path = urlsplit(response.url).path
        seen.append((path, response.status_code, response.request.headers.get("If-None-Match", "")))

    session.hooks["response"].append(hook)
    return session, seen


def _services(
    config: BookingConfig, clock: ManualClock, session: requests.Session | None = None
) -> BookingServices:
    return open_booking(config, clock=clock, session=session)


def _kiosk_at_door(
    tmp_path: Path, office: BackOffice, url: str, **settings: Any
) -> BookingServices:
    """A kiosk syncing from `url` (the config's `settings` changed) on a clock at the door."""
    return _services(
        kiosk_config(tmp_path, office, api_base_url=url, **settings), ManualClock(AT_DOOR)
    )


def test_first_sync_downloads_and_the_next_gets_304(
    tmp_path: Path, office: BackOffice, api: BookingApi
) -> None:
    tokens = [office.issue(9), office.issue(10, name="Siti Rahayu")]
    config = kiosk_config(tmp_path, office, api_base_url=api.url)
    session, seen = _recording(config)
    clock = ManualClock(AT_DOOR)
    kiosk = _services(config, clock, session)

    first = kiosk.sync.sync_once()
    assert first.outcomes == dict.fromkeys(("trust_list", "cancellations", "bookings"), "updated")
    day = kiosk.cache.day_bookings()
    assert day is not None and sorted(day.tokens.values()) == sorted(tokens)
    assert all(etag == "" for _, _, etag in seen)

    seen.clear()
    clock.advance(60)
    second = kiosk.sync.sync_once()
    assert set(second.outcomes.values()) == {"not_modified"}
    assert [status for _, status, _ in seen] == [304, 304, 304]
    assert all(etag.startswith('"') for _, _, etag in seen)
    assert kiosk.verifier.verify(tokens[0], AT_DOOR).reason == "ok"


def test_a_change_in_the_back_office_is_fetched_and_applied(
    tmp_path: Path, office: BackOffice, api: BookingApi
) -> None:
    token = office.issue(9)
    kiosk = _kiosk_at_door(tmp_path, office, api.url)
    kiosk.sync.sync_once()
    assert kiosk.verifier.verify(token, AT_DOOR).accepted

    code = kiosk.verifier.verify(token, AT_DOOR).booking.booking_id  # type: ignore[union-attr]
    assert office.issuer.cancel(code)
    report = kiosk.sync.sync_once()
    assert report.outcomes["cancellations"] == "updated"
    assert report.outcomes["bookings"] == "updated"
    assert report.outcomes["trust_list"] == "not_modified"
    assert kiosk.verifier.verify(token, AT_DOOR).reason == "cancelled"


def test_cache_age_is_reported_and_reset_by_a_304(
    tmp_path: Path, office: BackOffice, api: BookingApi
) -> None:
    config = kiosk_config(tmp_path, office, api_base_url=api.url, cache_stale_after_s=900)
    clock = ManualClock(AT_DOOR)
    kiosk = _services(config, clock)
    never = kiosk.sync.state()
    assert never["cache_age_s"] is None
    assert "booking cache never synced" in never["alerts"]
    assert never["cache_age_id"] == "Data pemesanan belum pernah diperbarui."

    kiosk.sync.sync_once()
    clock.advance(20 * 60)
    old = kiosk.sync.state()
    assert old["cache_age_s"] == 1200.0
    assert old["cache_age_id"] == "Data pemesanan diperbarui 20 menit lalu."
    assert old["cache_age_en"] == "Booking data updated 20 min ago."
    assert "booking cache is 20 min old" in old["alerts"]
    assert old["trust_list_sequence"] == 1

    assert set(kiosk.sync.sync_once().outcomes.values()) == {"not_modified"}
    assert kiosk.sync.state()["cache_age_s"] == 0.0
    assert kiosk.sync.state()["alerts"] == []


def test_sync_prunes_old_check_ins(tmp_path: Path, office: BackOffice) -> None:
    kiosk = _services(kiosk_config(tmp_path, office), ManualClock(AT_DOOR))
    kiosk.ledger.claim("AAAAAAAA0", "kiosk-1", AT_DOOR - timedelta(days=8))
    kiosk.ledger.claim("BBBBBBBB0", "kiosk-1", AT_DOOR - timedelta(days=6))
    kiosk.sync.sync_once()  # no API configured: every document fails, pruning still runs
    assert not kiosk.ledger.is_checked_in("AAAAAAAA0")
    assert kiosk.ledger.is_checked_in("BBBBBBBB0")


def test_age_wording() -> None:
    assert describe_age(30) == (
        "Data pemesanan baru saja diperbarui.",
        "Booking data updated just now.",
    )
    assert describe_age(3 * 3600 + 5)[0] == "Data pemesanan diperbarui 3 jam lalu."


def test_cache_and_etags_survive_a_restart_and_work_offline(
    tmp_path: Path, office: BackOffice, api: BookingApi
) -> None:
    token = office.issue(9)
    config = kiosk_config(tmp_path, office, api_base_url=api.url)
    clock = ManualClock(AT_DOOR)
    _services(config, clock).sync.sync_once()

    restarted = _services(config, clock)
    assert restarted.cache.etag("bookings", "2020-06-15") is not None
    assert set(restarted.sync.sync_once().outcomes.values()) == {"not_modified"}

    offline = config.model_copy(update={"api_base_url": closed_port_url(), "http_retries": 0})
    cut_off = _services(offline, clock)
    report = cut_off.sync.sync_once()
    assert set(report.outcomes.values()) == {"failed"}
    assert cut_off.verifier.verify(token, AT_DOOR).reason == "ok"
    assert cut_off.cache.day_bookings() is not None


def test_rotation_and_withdrawal_reach_the_kiosk(
    tmp_path: Path, office: BackOffice, api: BookingApi
) -> None:
    """GIVEN a key rotation and then a withdrawal WHEN the kiosk syncs THEN it follows both."""
    old_token = office.issue(9)
    kiosk = _kiosk_at_door(tmp_path, office, api.url)
    kiosk.sync.sync_once()

    office.clock.advance(60)
    rotated = office.issuer.keygen()
    new_token = office.issue(10, name="Dewi Kusuma")
    assert kiosk.verifier.verify(new_token, AT_DOOR).reason == "unknown_key"
    kiosk.sync.sync_once()
    assert kiosk.cache.trust_list().sequence == rotated.trust_list_sequence  # type: ignore[union-attr]
    assert kiosk.verifier.verify(new_token, AT_DOOR).reason == "too_early"  # 10:00 slot, known key
    assert kiosk.verifier.verify(old_token, AT_DOOR).reason == "ok"  # old key still trusted

    old_kid = office.store.keys()[0].kid
    done = office.issuer.withdraw(old_kid)
    assert done.reissued == 1 and done.new_kid is None
    kiosk.sync.sync_once()
    assert kiosk.verifier.verify(old_token, AT_DOOR).reason == "key_withdrawn"
    booking_id = kiosk.verifier.verify(new_token, AT_DOOR).booking.booking_id  # type: ignore[union-attr]
    day = kiosk.cache.day_bookings()
    assert day is not None
    reissued = [t for b, t in day.tokens.items() if b != booking_id]
    assert reissued != [old_token]
    assert kiosk.verifier.verify(reissued[0], AT_DOOR).reason == "ok"


def test_server_errors_are_retried(tmp_path: Path, office: BackOffice) -> None:
    body = office.issuer.trust_list()
    script = ScriptedServer(Step(503), Step(502), Step(200, body, {"ETag": '"t1"'}), Step(404))
    with script.running():
        kiosk = _kiosk_at_door(tmp_path, office, script.url, http_retries=2)
        report = kiosk.sync.sync_once()
    assert report.outcomes["trust_list"] == "updated"
    assert [path for path, _ in script.requests[:3]] == ["/v1/trust-list"] * 3
    assert report.outcomes["cancellations"] == "failed"  # a 404 is not retried
    assert kiosk.cache.etag("trust_list") == '"t1"'


def test_retries_give_up_and_the_cache_stays(tmp_path: Path, office: BackOffice) -> None:
    script = ScriptedServer(Step(503))
    with script.running():
        kiosk = _kiosk_at_door(tmp_path, office, script.url, http_retries=1)
        report = kiosk.sync.sync_once()
    assert set(report.outcomes.values()) == {"failed"}
    assert "HTTP 503" in report.errors["trust_list"]
    assert len(script.requests) == 3 * 2  # three documents, one retry each
    assert kiosk.cache.trust_list() is not None  # the provisioned list is kept


def test_a_hung_server_times_out_and_is_retried(tmp_path: Path, office: BackOffice) -> None:
    script = ScriptedServer(Step(hang=True))
    with script.running():
        kiosk = _kiosk_at_door(tmp_path, office, script.url, http_retries=1, read_timeout_s=0.2)
        report = kiosk.sync.sync_once()
    assert set(report.outcomes.values()) == {"failed"}
    assert len(script.requests) == 3 * 2


def test_an_older_or_forged_trust_list_is_not_installed(tmp_path: Path, office: BackOffice) -> None:
    office.issuer.keygen()  # sequence 2
    config = kiosk_config(tmp_path, office)
    old = make_backoffice(tmp_path / "other").issuer.trust_list()  # another root, sequence 1
    script = ScriptedServer(Step(200, old), Step(200, b"{not json"), Step(200, b"{not json"))
    with script.running():
        kiosk = _services(
            config.model_copy(update={"api_base_url": script.url}), ManualClock(AT_DOOR)
        )
        report = kiosk.sync.sync_once()
    assert report.outcomes == dict.fromkeys(("trust_list", "cancellations", "bookings"), "failed")
    assert "not a known anchor" in report.errors["trust_list"]
    assert kiosk.cache.trust_list().sequence == 2  # type: ignore[union-attr]


def test_duplicates_are_handed_to_the_callback(
    tmp_path: Path, office: BackOffice, api: BookingApi
) -> None:
    token = office.issue(9)
    config = kiosk_config(tmp_path, office, api_base_url=api.url)
    clock = ManualClock(AT_DOOR)
    kiosk = _services(config, clock)
    booking = kiosk.verifier.verify(token, AT_DOOR).booking
    assert booking is not None
    assert kiosk.ledger.claim(booking.booking_id, "kiosk-1", AT_DOOR)
    office.store.add_checkins([(booking.booking_id, "kiosk-2", AT_DOOR)])
    found: list[Duplicate] = []
    sync = BookingSync(config, kiosk.cache, kiosk.ledger, clock=clock, on_duplicate=found.append)
    report = sync.sync_once()
    assert [d.remote_kiosk for d in report.duplicates] == ["kiosk-2"]
    assert [d.booking_id for d in found] == [booking.booking_id]
    assert sync.state()["duplicates"] == 1
    assert "1 booking(s) checked in at two kiosks" in sync.state()["alerts"]
    assert sync.sync_once().duplicates == []  # reported once
