"""Signing-key rotation: the next key published ahead, the switch (now or at a set time), states."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from backoffice.__main__ import main
from backoffice.bookings import BookingStore, Issuer
from backoffice.bookings.issuer import IssueError
from backoffice.store import SqliteEventStore
from kiosk.booking.verifier import BookingVerifier, Rules
from tests.backoffice.bookings.helpers import BRANCH, DAY, MORNING, make_backoffice
from tests.kiosk.booking.testkeys import MemoryCheckins, StaticFacts
from uplink.booking import token, trustlist
from uplink.clock import ManualClock

# 09:10 WIB on the day of the bookings (helpers.DAY).
AT_DOOR = MORNING + timedelta(hours=3, minutes=10)


def _kiosk(document: bytes, anchor: str) -> BookingVerifier:
    """A verifier holding one trust-list document, as a kiosk that synced it and nothing since."""
    held = trustlist.parse(document, [trustlist.load_anchor(anchor)])
    rules = Rules(branch=BRANCH, zone=ZoneInfo("Asia/Jakarta"))
    return BookingVerifier(rules, StaticFacts(held), MemoryCheckins())


def test_the_next_key_is_listed_before_it_signs(tmp_path: Path) -> None:
    """GIVEN a published next key WHEN bookings are issued THEN the current key still signs them,
    and the list the kiosks sync already holds the next key."""
    office = make_backoffice(tmp_path)
    current = office.store.keys()[0].kid
    office.clock.advance(60)
    nxt = office.issuer.publish_next_key()
    assert token.split(office.issue(9)).kid.hex() == current
    listed = trustlist.parse(
        office.issuer.trust_list(), [trustlist.load_anchor(nxt.root_public_key)]
    )
    assert listed.sequence == nxt.trust_list_sequence == 2
    assert listed.key(bytes.fromhex(nxt.kid)) is not None
    assert [k.state for k in office.issuer.key_states()] == ["signing", "next"]
    with pytest.raises(IssueError, match=f"already published.*{nxt.kid}|{nxt.kid}.*already"):
        office.issuer.publish_next_key()
    with pytest.raises(IssueError, match="rotate"):
        office.issuer.keygen()


def test_rotation_refuses_no_booking_at_a_kiosk_that_synced_before_the_switch(
    tmp_path: Path,
) -> None:
    """GIVEN a kiosk that synced the list with the next key, and nothing since WHEN the back office
    rotates THEN bookings signed before and after the switch are both accepted there."""
    office = make_backoffice(tmp_path)
    office.clock.advance(60)
    nxt = office.issuer.publish_next_key()
    kiosk = _kiosk(office.issuer.trust_list(), nxt.root_public_key)
    before = office.issue(9, name="Budi Santoso")

    office.clock.advance(3600)
    done = office.issuer.rotate()
    after = office.issue(9, name="Dewi Kusuma")
    assert token.split(after).kid.hex() == done.kid == nxt.kid
    assert done.retired == (office.store.keys()[0].kid,)
    for text in (before, after):
        assert kiosk.verify(text, AT_DOOR).reason == "ok"
    # A kiosk that synced after the switch too: the old key's tokens stay good until they expire.
    synced = _kiosk(office.issuer.trust_list(), nxt.root_public_key)
    for text in (before, after):
        assert synced.verify(text, AT_DOOR).reason == "ok"
    assert [k.state for k in office.issuer.key_states()] == ["retired", "signing"]


def test_a_rotation_at_a_set_time_is_in_the_list_ahead(tmp_path: Path) -> None:
    """GIVEN `rotate --at T` WHEN bookings are issued before and after T THEN the old key signs
    until T and the next from T, and the list published at once says both."""
    office = make_backoffice(tmp_path)
    old = office.store.keys()[0].kid
    office.clock.advance(60)
    office.issuer.publish_next_key()
    switch = office.clock.now() + timedelta(hours=2)
    done = office.issuer.rotate(switch)
    listed = trustlist.parse(
        office.issuer.trust_list(), [trustlist.load_anchor(office.issuer.root_public_key())]
    )
    old_key = listed.key(bytes.fromhex(old))
    assert old_key is not None and old_key.valid_until == switch
    assert [k.state for k in office.issuer.key_states()] == ["signing", "scheduled"]
    assert token.split(office.issue(9)).kid.hex() == old
    office.clock.advance(2 * 3600)
    assert token.split(office.issue(10)).kid.hex() == done.kid
    assert [k.state for k in office.issuer.key_states()] == ["retired", "signing"]


def test_rotation_needs_a_next_key_and_a_time_to_come(tmp_path: Path) -> None:
    office = make_backoffice(tmp_path)
    with pytest.raises(IssueError, match="keygen --next"):
        office.issuer.rotate()
    office.issuer.publish_next_key()
    with pytest.raises(IssueError, match="from now"):
        office.issuer.rotate(office.clock.now() - timedelta(hours=1))
    with pytest.raises(IssueError, match="from now"):
        office.issuer.rotate(office.clock.now() + timedelta(days=400))
    with pytest.raises(IssueError, match="UTC offset"):
        office.issuer.rotate(office.clock.now().replace(tzinfo=None))


def test_withdrawing_the_signing_key_switches_to_the_published_next_key(tmp_path: Path) -> None:
    """GIVEN a next key published ahead WHEN the signing key is withdrawn THEN the issuer signs
    with that next key (which kiosks already hold), not a key no kiosk knows."""
    office = make_backoffice(tmp_path)
    leaked = office.store.keys()[0].kid
    nxt = office.issuer.publish_next_key()
    kiosk_before = _kiosk(office.issuer.trust_list(), nxt.root_public_key)
    screenshot = office.issue(9)

    office.clock.advance(600)
    done = office.issuer.withdraw(leaked)
    assert done.new_kid == done.signing_kid == nxt.kid and done.reissued == 1
    fresh = office.store.day(BRANCH, DAY)[0].token
    assert token.split(fresh).kid.hex() == nxt.kid
    # The kiosk that synced before the withdrawal accepts the re-issued QR at once ...
    assert kiosk_before.verify(fresh, AT_DOOR).reason == "ok"
    # ... and once it syncs, the screenshot is refused with the reason the participant can act on.
    kiosk_after = _kiosk(office.issuer.trust_list(), nxt.root_public_key)
    refused = kiosk_after.verify(screenshot, AT_DOOR)
    assert refused.reason == "key_withdrawn" and "kode QR terbaru" in refused.next_step_id
    assert kiosk_after.verify(fresh, AT_DOOR).reason == "ok"
    assert [k.state for k in office.issuer.key_states()] == ["withdrawn", "signing"]


def test_a_database_from_before_next_keys_keeps_signing(tmp_path: Path) -> None:
    """GIVEN a key table without `signs_from` (an older back office) WHEN opened THEN its keys
    sign as before."""
    office = make_backoffice(tmp_path)
    kid = office.store.keys()[0].kid
    office.store.close()
    db = sqlite3.connect(office.config.database_path)
    db.executescript(
        "CREATE TABLE k2 AS SELECT kid, public_key, valid_from, valid_until, withdrawn_at"
        " FROM keys;"
        "DROP TABLE keys; ALTER TABLE k2 RENAME TO keys;"
    )
    db.close()
    store = BookingStore(office.config.database_path)
    issuer = Issuer(office.config, store, clock=ManualClock(MORNING))
    assert [k.state for k in issuer.key_states()] == ["signing"]
    assert store.keys()[0].signs_from == store.keys()[0].valid_from
    office.store = store
    office.issuer = issuer
    assert token.split(office.issue(9)).kid.hex() == kid
    store.close()


def test_the_rotation_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`keygen`, `keygen --next`, `keys`, `rotate` and `rotate --at` as an operator runs them."""
    config = tmp_path / "booking.toml"
    config.write_text(
        f'database_path = "{tmp_path / "bookings.db"}"\nkeys_dir = "{tmp_path / "keys"}"\n',
        encoding="utf-8",
    )

    def run(*argv: str) -> tuple[int, Any, str]:
        try:
            code = main(["booking", *argv, "--config", str(config)])
        except SystemExit as exc:  # argparse refuses the usage
            code = int(str(exc.code))
        out, err = capsys.readouterr()
        return code, json.loads(out) if out else None, err

    code, first, _ = run("keygen")
    assert code == 0 and first["state"] == "signing"
    code, nxt, err = run("keygen", "--next")
    assert code == 0 and nxt["state"] == "next" and "booking rotate" in err
    code, again, err = run("keygen", "--next")
    assert code == 1 and again is None and "already published" in err
    code, keys, _ = run("keys")
    assert [(k["kid"], k["state"]) for k in keys] == [
        (first["kid"], "signing"),
        (nxt["kid"], "next"),
    ]
    code, _, err = run("rotate", "--at", "2020-01-01T00:00:00")
    assert code == 2 and "offset" in err
    code, rotated, err = run("rotate")
    assert code == 0 and rotated["signing"] == nxt["kid"] and rotated["retired"] == [first["kid"]]
    assert "min before it signs" in err  # no notice given: said, not refused
    code, _, err = run("rotate")
    assert code == 1 and "keygen --next" in err
    assert run("keygen", "--next")[0] == 0
    code, _, err = run("rotate", "--at", "2999-01-01T00:00:00+07:00")
    assert code == 1 and "next key's period ends" in err


def test_withdrawing_the_signing_key_before_a_scheduled_switch_switches_now(
    tmp_path: Path,
) -> None:
    """GIVEN a rotation scheduled for tonight WHEN the signing key leaks this afternoon
    THEN the withdrawal brings the scheduled key forward to now (kiosks hold it already)."""
    office = make_backoffice(tmp_path)
    leaked = office.store.keys()[0].kid
    office.clock.advance(60)
    nxt = office.issuer.publish_next_key()
    office.issuer.rotate(office.clock.now() + timedelta(hours=8))
    office.issue(9)
    office.clock.advance(600)
    done = office.issuer.withdraw(leaked)
    assert done.signing_kid == done.new_kid == nxt.kid and done.reissued == 1
    assert [k.state for k in office.issuer.key_states()] == ["withdrawn", "signing"]
    assert token.split(office.issue(10)).kid.hex() == nxt.kid


def test_a_leaked_next_key_is_withdrawn_before_it_ever_signs(tmp_path: Path) -> None:
    """GIVEN a next key published and then leaked WHEN withdrawn THEN nothing is re-issued, the
    current key keeps signing, and another next key can be published."""
    office = make_backoffice(tmp_path)
    current = office.store.keys()[0].kid
    office.clock.advance(60)
    nxt = office.issuer.publish_next_key()
    office.issue(9)
    done = office.issuer.withdraw(nxt.kid)
    assert done.reissued == 0 and done.new_kid is None and done.signing_kid == current
    listed = trustlist.parse(
        office.issuer.trust_list(), [trustlist.load_anchor(nxt.root_public_key)]
    )
    withdrawn = listed.key(bytes.fromhex(nxt.kid))
    assert withdrawn is not None and withdrawn.withdrawn_at is not None
    office.clock.advance(60)
    assert office.issuer.publish_next_key().kid != nxt.kid
    assert [k.state for k in office.issuer.key_states()] == ["signing", "withdrawn", "next"]


def test_keys_says_which_kiosks_do_not_hold_the_next_key_yet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN kiosks reporting the trust list they hold in their state WHEN `booking keys` runs
    THEN each key lists the kiosks behind it (a state of any other shape is not counted)."""
    events_path = tmp_path / "events.db"
    config = tmp_path / "booking.toml"
    config.write_text(
        f'database_path = "{tmp_path / "bookings.db"}"\nkeys_dir = "{tmp_path / "keys"}"\n'
        f'event_store_path = "{events_path}"\n'
        f'device_registry_path = "{tmp_path / "devices.toml"}"\n',
        encoding="utf-8",
    )

    def run(*argv: str) -> Any:
        assert main(["booking", *argv, "--config", str(config)]) == 0
        return json.loads(capsys.readouterr().out)

    events = SqliteEventStore(events_path)
    first = run("keygen")
    nxt = run("keygen", "--next")
    states = {
        "jakarta-salemba-kiosk-1": {"trust_list_sequence": nxt["trust_list_sequence"]},
        "jakarta-salemba-kiosk-2": {"trust_list_sequence": first["trust_list_sequence"]},
        "jakarta-salemba-kiosk-3": {"trust_list_sequence": True},  # not a sequence
        "jakarta-salemba-dropbox-1": {"alerts": []},
    }
    for device_id, state in states.items():
        events.set_state(device_id, state)
    events.close()

    keys = {k["kid"]: k for k in run("keys")}
    assert keys[nxt["kid"]]["listed_in_sequence"] == nxt["trust_list_sequence"]
    assert keys[nxt["kid"]]["kiosks_behind"] == ["jakarta-salemba-kiosk-2"]
    assert keys[nxt["kid"]]["kiosks_holding"] == 1
    assert keys[first["kid"]]["kiosks_behind"] == []
    assert keys[first["kid"]]["kiosks_holding"] == 2
