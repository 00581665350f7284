"""The booking API over real HTTP on loopback: routes, ETags and 304, errors, imported check-ins."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from backoffice.bookings import BookingApi, BookingStore, Issuer
from backoffice.store import SqliteEventStore
from tests.backoffice.bookings.helpers import BRANCH, DAY, BackOffice, make_backoffice, serving
from uplink.messages import Envelope


def _get(api: BookingApi, path: str, etag: str | None = None) -> requests.Response:
    headers = {"If-None-Match": etag} if etag else {}
    return requests.get(api.url + path, headers=headers, timeout=5)


def test_health(api: BookingApi) -> None:
    response = _get(api, "/healthz")
    assert (response.status_code, response.text) == (200, "ok\n")


def test_trust_list_with_etag_and_304(office: BackOffice, api: BookingApi) -> None:
    first = _get(api, "/v1/trust-list")
    assert first.status_code == 200
    assert first.content == office.issuer.trust_list()
    etag = first.headers["ETag"]
    assert etag.startswith('"') and first.headers["Cache-Control"] == "no-cache"
    again = _get(api, "/v1/trust-list", etag)
    assert (again.status_code, again.content) == (304, b"")
    assert _get(api, "/v1/trust-list", f'"other", W/{etag}').status_code == 304
    office.clock.advance(60)
    office.issuer.keygen()
    changed = _get(api, "/v1/trust-list", etag)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_day_list_carries_tokens_cancellations_and_check_ins(
    office: BackOffice, api: BookingApi
) -> None:
    tokens = [office.issue(9), office.issue(11, name="Siti")]
    ids = [b.booking.booking_id for b in office.store.day(BRANCH, DAY)]
    office.issuer.cancel(ids[1])
    office.store.add_checkins([(ids[0], "kiosk-1", datetime(2020, 6, 15, 2, 5, tzinfo=UTC))])
    response = _get(api, f"/v1/branches/{BRANCH}/bookings?date=2020-06-15")
    assert response.status_code == 200
    body = response.json()
    assert body["date"] == "2020-06-15" and body["branch"] == BRANCH
    assert [b["token"] for b in body["bookings"]] == tokens
    assert body["bookings"][0]["checkins"] == [
        {"kiosk_id": "kiosk-1", "at": "2020-06-15T02:05:00.000Z"}
    ]
    assert body["bookings"][1]["cancelled_at"] is not None
    other_day = _get(api, f"/v1/branches/{BRANCH}/bookings?date=2020-06-16").json()
    assert other_day["bookings"] == []


def test_cancellations_cover_the_horizon(office: BackOffice, api: BookingApi) -> None:
    office.issue(9)
    booking_id = office.store.day(BRANCH, DAY)[0].booking.booking_id
    empty = _get(api, f"/v1/branches/{BRANCH}/cancellations")
    assert empty.json()["cancelled"] == []
    office.issuer.cancel(booking_id)
    listed = _get(api, f"/v1/branches/{BRANCH}/cancellations", empty.headers["ETag"])
    assert listed.status_code == 200
    assert [c["booking_id"] for c in listed.json()["cancelled"]] == [booking_id]
    later = _get(api, f"/v1/branches/{BRANCH}/cancellations?from=2020-06-16")
    assert later.json()["cancelled"] == []


def test_lookup_by_typed_code(office: BackOffice, api: BookingApi) -> None:
    token = office.issue(9)
    booking_id = office.store.day(BRANCH, DAY)[0].booking.booking_id
    typed = f"{booking_id[:3]}-{booking_id[3:6]}-{booking_id[6:]}".lower()
    found = _get(api, f"/v1/bookings/{typed}")
    assert found.status_code == 200
    assert found.json() == {
        "booking_id": booking_id,
        "token": token,
        "cancelled_at": None,
        "checkins": [],
    }
    assert _get(api, "/v1/bookings/7K3QX9M2B").status_code == 404  # bad check character
    assert _get(api, "/v1/bookings/7K3QX9M2A").status_code == 404  # valid, unknown


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/nothing", 404),
        (f"/v1/branches/{BRANCH}/bookings", 400),
        (f"/v1/branches/{BRANCH}/bookings?date=15-06-2020", 400),
        ("/v1/branches/Bad Branch/bookings?date=2020-06-15", 404),
    ],
)
def test_bad_requests_get_json_errors(api: BookingApi, path: str, status: int) -> None:
    response = _get(api, path)
    assert response.status_code == status
    assert "error" in response.json()


def test_trust_list_before_keygen_is_503(tmp_path: Path) -> None:
    office = make_backoffice(tmp_path)
    empty = BackOffice(
        office.config,
        BookingStore(tmp_path / "empty.db"),
        Issuer(office.config, BookingStore(tmp_path / "empty.db"), clock=office.clock),
        office.clock,
    )
    with serving(empty) as api:
        response = _get(api, "/v1/trust-list")
    assert response.status_code == 503
    assert "keygen" in response.json()["error"]


def test_check_in_events_are_imported_from_the_event_store(
    tmp_path: Path, office: BackOffice
) -> None:
    office.issue(9)
    booking_id = office.store.day(BRANCH, DAY)[0].booking.booking_id
    events = SqliteEventStore(tmp_path / "events.db")
    payload = {
        "checkin_id": "c1",
        "kind": "booking",
        "priority_class": "online",
        "service": "JHT",
        "ticket_number": "JHT A1-001",
        "party_size": 1,
        "wait_outside": False,
        "temperature": "passed",
        "booking_id": booking_id,
    }
    envelopes = [
        Envelope(
            "01ARZ3NDEKTSV4RRFFQ69G5FAV",
            "kiosk-1",
            1,
            "kiosk.checkin.accepted",
            1,
            "2020-06-15T02:05:00.000Z",
            True,
            payload,
        ),
        Envelope(
            "01ARZ3NDEKTSV4RRFFQ69G5FAW",
            "kiosk-1",
            2,
            "device.probe",
            1,
            "2020-06-15T02:06:00.000Z",
            True,
            {"booking_id": booking_id},
        ),  # other types are ignored
        Envelope(
            "01ARZ3NDEKTSV4RRFFQ69G5FAX",
            "kiosk-2",
            1,
            "kiosk.checkin.accepted",
            1,
            "2020-06-15T02:07:00.000Z",
            True,
            payload,
        ),
    ]
    events.store_events(envelopes, "2020-06-15T02:08:00.000Z")
    with serving(office, events=events) as api:
        body = _get(api, f"/v1/branches/{BRANCH}/bookings?date=2020-06-15").json()
        again = _get(api, f"/v1/bookings/{booking_id}").json()
    kiosks = [c["kiosk_id"] for c in body["bookings"][0]["checkins"]]
    assert kiosks == ["kiosk-1", "kiosk-2"]
    assert len(again["checkins"]) == 2  # imported once, not twice
    assert list(office.store.duplicate_checkins(BRANCH, DAY)) == [booking_id]
    assert json.loads(office.store.meta("event_store_cursor") or "0") == 3


def test_stopping_an_api_that_never_started_returns(office: BackOffice) -> None:
    api = BookingApi(office.config, office.issuer)
    api.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(api.url + "/healthz", timeout=2)
