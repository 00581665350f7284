"""The offline cache: atomic files, bad documents refused without losing what was held."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.booking.cache import BookingCache, CacheError
from kiosk.booking.verifier import BookingVerifier, Rules
from tests.kiosk.booking import testkeys as k
from uplink.booking.trustlist import TrustListError

NOW = datetime(2020, 6, 15, 2, 0, tzinfo=UTC)
DAY = {
    "branch": "jakarta-salemba",
    "date": "2020-06-15",
    "bookings": [
        {"booking_id": "AAAAAAAA0", "token": "LA1:X", "cancelled_at": None,
         "checkins": [{"kiosk_id": "kiosk-2", "at": "2020-06-15T02:05:00.000Z"}]},
        {"booking_id": "BBBBBBBB0", "token": "LA1:Y", "cancelled_at": "2020-06-14T10:00:00Z",
         "checkins": []},
    ],
}  # fmt: skip
BAD_CHECKIN = {"booking_id": "AAAAAAAA0", "token": "LA1:X", "cancelled_at": None,
               "checkins": [{"kiosk_id": "k", "at": "0001-13-01T00:00:00Z"}]}  # fmt: skip
CANCELLED = (
    b'{"branch": "jakarta-salemba", "from": "2020-06-14", "cancelled": '
    b'[{"booking_id": "CCCCCCCC0", "cancelled_at": "2020-06-14T10:00:00Z"}]}'
)


def _cache(tmp_path: Path, with_trust: bool = True) -> BookingCache:
    trust = tmp_path / "trust-list.json"
    if with_trust:
        trust.write_bytes(k.standard_trust_list(sequence=2))
    return BookingCache(trust, tmp_path / "cache", [k.ROOT.public_key()], "jakarta-salemba")


def test_documents_are_installed_and_reloaded(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    cache.store_cancellations(CANCELLED, '"c"', NOW)
    day = cache.store_bookings(json.dumps(DAY).encode(), '"d"', NOW)
    assert [c.kiosk_id for c in day.checkins] == ["kiosk-2"]
    reloaded = _cache(tmp_path)
    assert reloaded.is_cancelled("CCCCCCCC0") and reloaded.is_cancelled("BBBBBBBB0")
    assert not reloaded.is_cancelled("AAAAAAAA0")
    assert reloaded.token_for("AAAAAAAA0") == "LA1:X"
    assert reloaded.etag("bookings", "2020-06-15") == '"d"'
    assert reloaded.etag("bookings", "2020-06-16") is None  # a new day fetches afresh
    assert reloaded.ages_s(NOW) == {"trust_list": None, "cancellations": 0.0, "bookings": 0.0}
    assert reloaded.cache_age_s(NOW) is None  # the trust list was never synced
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [
        "bookings.json", "cancellations.json", "meta.json"
    ]  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'{"bookings": []}',
        b'{"date": "2020-06-15", "bookings": [{"booking_id": "A"}]}',
        b'{"date": "2020-06-15", "bookings": [{"booking_id": "A", "token": "t",'
        b' "checkins": [{"kiosk_id": "k", "at": "2020-06-15T09:00:00"}]}]}',  # no UTC offset
        b"[" * 50_000,
        json.dumps({**DAY, "branch": "jakarta-cilandak"}).encode(),  # another branch's
        json.dumps({**DAY, "date": "2020-02-30"}).encode(),  # no such day
        json.dumps({**DAY, "bookings": [BAD_CHECKIN]}).encode(),  # year 1, month 13
    ],
)
def test_a_bad_day_list_is_refused_and_the_old_one_kept(tmp_path: Path, body: bytes) -> None:
    cache = _cache(tmp_path)
    cache.store_bookings(json.dumps(DAY).encode(), '"d"', NOW)
    with pytest.raises(CacheError):
        cache.store_bookings(body, '"e"', NOW)
    assert cache.token_for("AAAAAAAA0") == "LA1:X"
    assert cache.etag("bookings", "2020-06-15") == '"d"'


def test_a_bad_cancellations_list_is_refused(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    for body in (b"{}", b"[]", b'{"cancelled": [1]}', CANCELLED.replace(b"salemba", b"cilandak")):
        with pytest.raises(CacheError):
            cache.store_cancellations(body, None, NOW)


def test_trust_list_rollback_is_refused_and_the_file_untouched(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    before = cache.trust_list_path.read_bytes()
    with pytest.raises(TrustListError, match="older"):
        cache.store_trust_list(k.standard_trust_list(sequence=1), None, NOW)
    assert cache.trust_list_path.read_bytes() == before
    newer = cache.store_trust_list(k.standard_trust_list(sequence=3), '"t"', NOW)
    assert newer.sequence == 3 and cache.trust_list_path.read_bytes() == newer.document


def test_corrupt_files_at_start_leave_the_kiosk_running(tmp_path: Path) -> None:
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "bookings.json").write_text("{broken")
    (tmp_path / "cache" / "meta.json").write_text("[]")
    (tmp_path / "trust-list.json").write_text("garbage")
    cache = _cache(tmp_path, with_trust=False)
    assert cache.trust_list() is None and cache.day_bookings() is None
    verifier = BookingVerifier(Rules("jakarta-salemba", k.JAKARTA), cache, k.MemoryCheckins())
    assert verifier.verify(k.make_token(), NOW).reason == "no_trust_list"
