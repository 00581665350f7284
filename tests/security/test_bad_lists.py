"""Bad booking lists from the API: parsed once by uplink.inbound, each bad one logged once and
reported as one fault, and the kiosk keeps checking in on its last good data.

The back office validates what it serves against the same schemas (`daylist.v1.json`,
`cancellations.v1.json`), so these can only come from something in between or a broken server.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from backoffice.bookings.issuer import cancellations_document, day_document
from kiosk.booking import open_booking
from kiosk.booking.sync import BookingSync, bad_document_fault
from tests.backoffice.bookings.helpers import BRANCH, DAY, kiosk_config, make_backoffice, serving
from tests.kiosk.booking.scripted import ScriptedServer, Step
from uplink import inbound
from uplink.booking import trustlist
from uplink.clock import ManualClock
from uplink.errors import MessageError
from uplink.messages import catalog

AT_DOOR = datetime(2020, 6, 15, 2, 10, tzinfo=UTC)  # 09:10 WIB, inside the 09:00 slot


def _bad_documents(booking_id: str, token: str) -> list[bytes]:
    """A trust list signed by a root the kiosk does not trust, a cancellations list without
    times, and another branch's day list cancelling this branch's booking."""
    stranger = Ed25519PrivateKey.generate()
    trust = trustlist.sign(
        {"sequence": 99, "issued_at": "2020-06-15T00:00:00Z", "keys": []}, stranger
    )
    cancellations = json.dumps(
        {"branch": BRANCH, "from": "2020-06-14", "cancelled": [{"booking_id": booking_id}]}
    ).encode()
    day = json.dumps({
        "branch": "jakarta-cilandak", "date": DAY.isoformat(),
        "bookings": [{"booking_id": booking_id, "token": token,
                      "cancelled_at": "2020-06-15T01:00:00Z", "checkins": []}],
    }).encode()  # fmt: skip
    return [trust, cancellations, day]


def test_bad_lists_are_ignored_once_and_the_kiosk_keeps_checking_in(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """GIVEN a kiosk synced with good lists
    WHEN the API serves a bad trust list, cancellations and day list, round after round
    THEN each is logged once and reported as one fault, and the kiosk still checks in."""
    office = make_backoffice(tmp_path)
    token = office.issue(9)
    booking_id = office.store.day(BRANCH, DAY)[0].booking.booking_id
    clock = ManualClock(AT_DOOR)
    with serving(office) as api:
        kiosk = open_booking(kiosk_config(tmp_path, office, api_base_url=api.url), clock=clock)
        assert kiosk.sync.sync_once().ok
    held = kiosk.cache.trust_list()
    assert held is not None

    faults: list[tuple[str, Any]] = []
    bad = ScriptedServer(*[Step(200, body) for body in _bad_documents(booking_id, token) * 3])
    with bad.running():
        config = kiosk.config.model_copy(update={"api_base_url": bad.url})
        sync = BookingSync(
            config, kiosk.cache, kiosk.ledger, clock=clock,
            on_bad_document=bad_document_fault(lambda *event: faults.append(event)),
        )  # fmt: skip
        with caplog.at_level(logging.WARNING, logger="kiosk.booking.sync"):
            for _ in range(3):
                report = sync.sync_once()
                assert set(report.outcomes.values()) == {"failed"}
    warnings = [r.getMessage() for r in caplog.records if r.name == "kiosk.booking.sync"]
    assert len(warnings) == 3, warnings  # one per bad document, not one per round
    assert [payload["code"] for _type, payload in faults] == ["bad_document"] * 3
    for type_name, payload in faults:
        catalog().validate_payload(catalog().get(type_name), payload)  # a valid device.fault
    assert "branch jakarta-cilandak's" in faults[2][1]["detail"]

    assert kiosk.cache.trust_list() is held
    assert not kiosk.cache.is_cancelled(booking_id)
    assert kiosk.cache.token_for(booking_id) == token
    assert kiosk.verifier.verify(token, AT_DOOR).accepted


def test_the_back_office_serves_only_lists_the_kiosks_parse(tmp_path: Path) -> None:
    """The sender validates with the schema the kiosk parses with: both agree, both ways."""
    office = make_backoffice(tmp_path)
    office.issue(9)
    booking_id = office.store.day(BRANCH, DAY)[0].booking.booking_id
    office.issuer.cancel(booking_id)
    office.store.add_checkins([(booking_id, "kiosk-1", AT_DOOR)])
    day = inbound.parse_day_list(day_document(office.store, BRANCH, DAY))
    assert (day.branch, day.day) == (BRANCH, DAY)
    [listed] = day.bookings
    assert listed.cancelled_at is not None and listed.cancelled_at.tzinfo is not None
    assert [(c.kiosk_id, c.at) for c in listed.checkins] == [("kiosk-1", AT_DOOR)]
    cancelled = inbound.parse_cancellations(cancellations_document(office.store, BRANCH, DAY, 7))
    assert list(cancelled.cancelled) == [booking_id]


@pytest.mark.parametrize(
    "body",
    [
        b'{"branch": "jakarta-salemba", "date": "2020-06-15", "bookings": [{"booking_id": "A1",'
        b' "token": 5, "cancelled_at": null, "checkins": []}]}',  # was read as the token "5"
        b'{"branch": "jakarta-salemba", "date": "2020-06-15", "bookings": [], "extra": 1}',
        b'{"branch": "jakarta-salemba", "date": "2020-02-30", "bookings": []}',
        b'{"branch": "Jakarta", "date": "2020-06-15", "bookings": []}',
        b'{"branch": "jakarta-salemba", "date": "2020-06-15", "bookings": [{"booking_id": "A1",'
        b' "token": "LA1:X", "cancelled_at": "2020-06-15T01:00:00", "checkins": []}]}',
        b"\xff" + b"{}",
        b" " * (inbound.MAX_LIST_BYTES + 1),
    ],
)
def test_a_day_list_off_the_schema_is_one_message_error(body: bytes) -> None:
    with pytest.raises(MessageError):
        inbound.parse_day_list(body)


def test_a_trust_list_from_an_unknown_root_is_refused_by_the_inbound_parse() -> None:
    root = Ed25519PrivateKey.generate()
    document = trustlist.sign(
        {"sequence": 1, "issued_at": "2020-06-15T00:00:00Z", "keys": []}, root
    )
    assert inbound.parse_trust_list(document, [root.public_key()]).sequence == 1
    with pytest.raises(trustlist.TrustListError, match="not a known anchor"):
        inbound.parse_trust_list(document, [Ed25519PrivateKey.generate().public_key()])
