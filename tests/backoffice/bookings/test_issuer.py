"""Issuing bookings: keys on disk, rotation, withdrawal with re-signing, the trust list."""

from __future__ import annotations

import base64
import os
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from backoffice.bookings import BookingStore, Issuer, KeyStore, KeyStoreError, mask_name
from backoffice.bookings.issuer import IssueError
from kiosk.booking.verifier import BookingVerifier, Rules
from tests.backoffice.bookings.helpers import BRANCH, DAY, MORNING, make_backoffice
from tests.kiosk.booking.testkeys import MemoryCheckins, StaticFacts
from uplink.booking import codes, token, trustlist

AT_DOOR = datetime(2020, 6, 15, 2, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("Budi Santoso", "B*** S******"),
        ("  siti   rahayu ", "s*** r*****"),
        ("", ""),
        ("Ni Made Ayu Suartini", "N* M*** A** S*******"),
        ("A" * 100, "A" + "*" * 47),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked
    assert len(mask_name(name).encode()) <= 48


def test_issued_token_verifies_with_the_published_trust_list(tmp_path: Path) -> None:
    office = make_backoffice(tmp_path)
    issued = office.issuer.issue(
        branch=BRANCH,
        service="jht",
        day=DAY,
        start=time(9),
        end=time(10),
        name="Budi Santoso",
        party_size=3,
        channel="Collective",
    )
    assert codes.normalize(issued.booking.booking_id) == issued.booking.booking_id
    assert issued.code.count("-") == 2
    anchor = trustlist.load_anchor(office.issuer.root_public_key())
    held = trustlist.parse(office.issuer.trust_list(), [anchor])
    verifier = BookingVerifier(
        Rules(BRANCH, ZoneInfo("Asia/Jakarta")), StaticFacts(held), MemoryCheckins()
    )
    verdict = verifier.verify(issued.token, AT_DOOR)
    assert verdict.reason == "ok"
    assert verdict.booking == issued.booking
    assert verdict.booking.channel == "collective" and verdict.booking.party_size == 3
    stored = office.store.booking(issued.booking.booking_id)
    assert stored is not None and stored.token == issued.token
    assert stored.booking.masked_name == "B*** S******"  # the full name is never stored


def test_wita_branch_slots_carry_their_offset(tmp_path: Path) -> None:
    office = make_backoffice(tmp_path)
    config = office.config.model_copy(update={"branch_timezones": {"denpasar": "Asia/Makassar"}})
    office.issuer.config = config
    issued = office.issuer.issue(
        branch="denpasar", service="JKK", day=DAY, start=time(8), end=time(9), name="Made"
    )
    assert issued.booking.slot_start.utcoffset() == timedelta(hours=8)
    claims = token.parse_claims(token.split(issued.token).signed)
    assert claims.booking.slot_start.isoformat() == "2020-06-15T08:00:00+08:00"
    assert claims.expires_at == datetime(2020, 6, 15, 13, tzinfo=UTC)  # slot end + 12 h


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"service": "XYZ"}, "service"),
        ({"channel": "walkin"}, "channel"),
        ({"day": date(2020, 6, 1)}, "has ended"),
        ({"end": time(8)}, "ends before"),
        ({"party_size": 0}, "party_size"),
        ({"branch": "Not A Branch"}, "branch"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(
    tmp_path: Path, changes: dict[str, object], words: str
) -> None:
    office = make_backoffice(tmp_path)
    with pytest.raises(IssueError, match=words):
        office.issue(9, **changes)


def test_a_booking_code_cannot_be_issued_twice(tmp_path: Path) -> None:
    office = make_backoffice(tmp_path)
    office.issue(9, booking_id="7K3QX9M2A")
    with pytest.raises(IssueError, match="already taken"):
        office.issue(10, booking_id="7K3QX9M2A")


def test_rotation_keeps_old_keys_listed_until_retention_ends(tmp_path: Path) -> None:
    office = make_backoffice(tmp_path)
    first = office.store.keys()[0].kid
    office.clock.advance(3600)
    second = office.issuer.keygen()
    held = trustlist.parse(
        office.issuer.trust_list(), [trustlist.load_anchor(second.root_public_key)]
    )
    assert held.sequence == 2
    old = held.key(bytes.fromhex(first))
    assert old is not None and old.valid_until == office.clock.now().replace(microsecond=0)
    new_token = office.issue(9)
    assert token.split(new_token).kid.hex() == second.kid

    office.clock.advance(61 * 86400)  # past key_retention_days (60)
    office.issuer.keygen()
    later = trustlist.parse(
        office.issuer.trust_list(), [trustlist.load_anchor(second.root_public_key)]
    )
    assert later.key(bytes.fromhex(first)) is None
    assert later.key(bytes.fromhex(second.kid)) is not None


def test_withdrawing_the_only_key_makes_a_new_one_and_re_signs(tmp_path: Path) -> None:
    office = make_backoffice(tmp_path)
    before = office.issue(9)
    kid = token.split(before).kid.hex()
    done = office.issuer.withdraw(kid.upper())
    assert done.reissued == 1 and done.new_kid is not None and done.kid == kid
    after = office.store.day(BRANCH, DAY)[0].token
    assert after != before and token.split(after).kid.hex() == done.new_kid
    with pytest.raises(IssueError, match="already withdrawn"):
        office.issuer.withdraw(kid)
    with pytest.raises(IssueError, match="hex"):
        office.issuer.withdraw("zz")


def test_no_trust_list_before_keygen(tmp_path: Path) -> None:
    office = make_backoffice(tmp_path)
    fresh = Issuer(office.config, BookingStore(tmp_path / "empty.db"), clock=office.clock)
    with pytest.raises(IssueError, match="keygen"):
        fresh.trust_list()
    with pytest.raises(IssueError, match="keygen"):
        fresh.issue(branch=BRANCH, service="JHT", day=DAY, start=time(9), end=time(10), name="x")


def test_key_files_are_private(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys")
    kid, key = store.new_signing_key()
    path = tmp_path / "keys" / f"signing-{kid.hex()}.pem"
    assert path.stat().st_mode & 0o777 == 0o600
    assert store.signing_key(kid).public_key() == key.public_key()
    os.chmod(path, 0o644)
    with pytest.raises(KeyStoreError, match="chmod 600"):
        store.signing_key(kid)
    with pytest.raises(KeyStoreError, match="keygen"):
        store.root()
    root = store.root(create=True)
    assert len(base64.b64encode(trustlist.raw_public(root.public_key()))) == 44


def test_a_colliding_key_id_is_generated_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = iter([b"\x00\x00\x00\x01", b"\x00\x00\x00\x01", b"\x00\x00\x00\x02"])
    monkeypatch.setattr("backoffice.bookings.keys.key_id", lambda public: next(ids))
    store = KeyStore(tmp_path / "keys")
    assert store.new_signing_key()[0] == b"\x00\x00\x00\x01"
    assert store.new_signing_key()[0] == b"\x00\x00\x00\x02"
    assert len(list((tmp_path / "keys").glob("signing-*.pem"))) == 2


def test_a_slot_ending_at_midnight_runs_until_the_next_day(tmp_path: Path) -> None:
    # GIVEN the back office at 22:40 WIB, the evening a new user first tried the branch
    office = make_backoffice(tmp_path)
    office.clock.advance((datetime(2020, 6, 15, 15, 40, tzinfo=UTC) - MORNING).total_seconds())

    # WHEN it issues the day's last slot, 23:00-00:00
    issued = office.issuer.issue(
        branch=BRANCH, service="JHT", day=DAY, start=time(23), end=time(0), name="Budi Santoso"
    )

    # THEN the slot ends at the next day's midnight, and a participant at 23:30 is welcome
    zone = ZoneInfo("Asia/Jakarta")
    assert issued.booking.slot_start == datetime(2020, 6, 15, 23, 0, tzinfo=zone)
    assert issued.booking.slot_end == datetime(2020, 6, 16, 0, 0, tzinfo=zone)
    anchor = trustlist.load_anchor(office.issuer.root_public_key())
    held = trustlist.parse(office.issuer.trust_list(), [anchor])
    verifier = BookingVerifier(Rules(BRANCH, zone), StaticFacts(held), MemoryCheckins())
    at_half_past = datetime(2020, 6, 15, 23, 30, tzinfo=zone)
    assert verifier.verify(issued.token, at_half_past).reason == "ok"
    # A slot that really ends before it starts is still refused.
    with pytest.raises(IssueError, match="ends before it starts"):
        office.issuer.issue(
            branch=BRANCH, service="JHT", day=DAY, start=time(23), end=time(22), name="Budi"
        )
