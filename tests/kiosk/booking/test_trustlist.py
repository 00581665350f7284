"""The trust list: signed by a root, key signing periods, rotation, withdrawal, no rollback."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from tests.kiosk.booking import testkeys as k
from uplink.booking import trustlist
from uplink.booking.trustlist import TrustListError

ROOTS = [k.ROOT.public_key()]


def test_standard_list_reads_back() -> None:
    held = trustlist.parse(k.standard_trust_list(sequence=3), ROOTS)
    assert held.sequence == 3
    listed = (k.KEY_CURRENT, k.KEY_RETIRED, k.KEY_WITHDRAWN, k.KEY_FUTURE)
    assert set(held.keys) == {k.kid(key) for key in listed}
    withdrawn = held.key(k.kid(k.KEY_WITHDRAWN))
    assert withdrawn is not None and withdrawn.withdrawn_at == datetime(2020, 6, 10, tzinfo=UTC)
    assert held.key(k.kid(k.KEY_UNKNOWN)) is None


def test_signing_period_is_inclusive() -> None:
    key = trustlist.parse(k.standard_trust_list(), ROOTS).key(k.kid(k.KEY_RETIRED))
    assert key is not None
    assert key.signed_in_period(datetime(2019, 1, 1, tzinfo=UTC))
    assert key.signed_in_period(datetime(2020, 1, 1, tzinfo=UTC))
    assert not key.signed_in_period(datetime(2020, 1, 1, 0, 0, 1, tzinfo=UTC))


def test_older_list_cannot_replace_a_newer_one() -> None:
    """An attacker replaying the list from before a withdrawal is refused."""
    with pytest.raises(TrustListError, match="older"):
        trustlist.parse(k.standard_trust_list(sequence=4), ROOTS, min_sequence=5)
    assert trustlist.parse(k.standard_trust_list(sequence=5), ROOTS, min_sequence=5).sequence == 5


def test_list_signed_by_another_root_is_refused() -> None:
    other = k.fixed_key("some other root")
    body = json.loads(base64.b64decode(json.loads(k.standard_trust_list())["payload"]))
    with pytest.raises(TrustListError, match="not a known anchor"):
        trustlist.parse(trustlist.sign(body, other), ROOTS)


def test_altered_list_is_refused() -> None:
    outer = json.loads(k.standard_trust_list())
    body = json.loads(base64.b64decode(outer["payload"]))
    body["keys"][2]["withdrawn_at"] = None  # an attacker un-withdrawing a key
    outer["payload"] = base64.b64encode(json.dumps(body).encode()).decode()
    with pytest.raises(TrustListError, match="altered"):
        trustlist.parse(json.dumps(outer).encode(), ROOTS)


def test_key_id_must_match_its_key() -> None:
    entry = k.key_entry(
        k.KEY_CURRENT, datetime(2020, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC)
    )
    entry["kid"] = k.kid(k.KEY_RETIRED).hex()
    document = trustlist.sign(
        {"sequence": 1, "issued_at": "2020-06-01T00:00:00Z", "keys": [entry]}, k.ROOT
    )
    with pytest.raises(TrustListError, match="does not match"):
        trustlist.parse(document, ROOTS)


@pytest.mark.parametrize(
    "document",
    [b"", b"{}", b"[]", b'{"format": "lapak-trust-list/1"}', b"\xff\xfe", b"x" * 1_000_001],
)
def test_malformed_documents_are_refused(document: bytes) -> None:
    with pytest.raises(TrustListError):
        trustlist.parse(document, ROOTS)


def test_anchor_loading_explains_what_is_wrong() -> None:
    assert trustlist.key_id(trustlist.load_anchor(k.ANCHOR)) == trustlist.key_id(ROOTS[0])
    with pytest.raises(ValueError, match="not base64"):
        trustlist.load_anchor("not base64!")
    with pytest.raises(ValueError, match="32 bytes"):
        trustlist.load_anchor(base64.b64encode(b"short").decode())


def test_rotation_keeps_old_tokens_valid_and_withdrawal_refuses_them() -> None:
    """GIVEN a token from a retired key WHEN verified THEN ok; the withdrawn key's: refused."""
    verifier = k.make_verifier()
    now = datetime(2020, 6, 15, 9, 10, tzinfo=k.WIB)
    retired = k.make_token(key=k.KEY_RETIRED, issued_at=datetime(2019, 12, 31, tzinfo=UTC))
    assert verifier.verify(retired, now).reason == "ok"
    # Issued on 1 June, before the withdrawal on 10 June: still refused (a leak predates its
    # discovery, so no token of a withdrawn key is trusted).
    early = k.make_token(key=k.KEY_WITHDRAWN, issued_at=datetime(2020, 6, 1, tzinfo=UTC))
    assert verifier.verify(early, now).reason == "key_withdrawn"
