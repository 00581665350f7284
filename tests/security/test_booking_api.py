"""The booking API against a hostile client: bounded code guessing, JSON for every bad request,
no booking code in any log line, dates out of range refused."""

from __future__ import annotations

import logging
import socket

import pytest
import requests

from backoffice.bookings import BookingApi
from backoffice.bookings.api import LOOKUP_BURST
from tests.backoffice.bookings.helpers import BRANCH, BackOffice


def test_code_guessing_is_rate_limited_per_client(api: BookingApi) -> None:
    """1,811 guesses in 10 s from one host before; now a burst, then 429 with Retry-After."""
    statuses = [
        requests.get(f"{api.url}/v1/bookings/ABCD-{n:04d}", timeout=5).status_code
        for n in range(LOOKUP_BURST + 10)
    ]
    assert statuses[:LOOKUP_BURST] == [404] * LOOKUP_BURST
    assert set(statuses[LOOKUP_BURST:]) == {429}
    limited = requests.get(f"{api.url}/v1/bookings/ABCD-0000", timeout=5)
    assert limited.json()["error"] and limited.headers["Retry-After"] == "60"
    # Other documents are not limited.
    assert requests.get(f"{api.url}/v1/trust-list", timeout=5).status_code == 200


@pytest.mark.parametrize(
    "query", ["cancellations?from=9999-12-31", "cancellations?from=0001-01-01",
              "bookings?date=9999-12-31", "bookings?date=2026-02-30", "bookings?date=x" * 50],
)  # fmt: skip
def test_dates_out_of_range_are_a_400_in_json(api: BookingApi, query: str) -> None:
    response = requests.get(f"{api.url}/v1/branches/{BRANCH}/{query}", timeout=5)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert "error" in response.json()


@pytest.mark.parametrize(
    "request_bytes",
    [b"GARBAGE\r\n\r\n", b"GET /v1/trust-list HTTP/9.9\r\n\r\n", b"POST /v1/trust-list HTTP/1.1\r\n"
     b"Content-Length: 0\r\n\r\n", b"GET /" + b"x" * 70_000 + b" HTTP/1.1\r\n\r\n",
     b"GET /nowhere HTTP/1.1\r\n\r\n"],
)  # fmt: skip
def test_every_bad_request_gets_a_json_error(api: BookingApi, request_bytes: bytes) -> None:
    host, port = api.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request_bytes)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer and answer.rstrip().endswith(b"}"):
                break
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    assert 400 <= status < 600 and status != 500, head
    assert b"Content-Type: application/json" in head
    assert b"<html" not in answer.lower() and body.startswith(b'{"error"')


def test_no_booking_code_or_token_in_logs_at_any_level(
    office: BackOffice, api: BookingApi, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        token = office.issue(9)
        listing = requests.get(
            f"{api.url}/v1/branches/{BRANCH}/bookings?date=2020-06-15", timeout=5
        )
        ids = [b["booking_id"] for b in listing.json()["bookings"]]
        for booking_id in ids:
            assert requests.get(f"{api.url}/v1/bookings/{booking_id}", timeout=5).status_code == 200
        requests.get(f"{api.url}/v1/bookings/SECRET-CODE1", timeout=5)
    ours = [r for r in caplog.records if r.name.split(".")[0] in ("backoffice", "uplink")]
    text = "\n".join(r.getMessage() for r in ours)
    assert "/v1/bookings/<code>" in text  # the requests were logged, redacted
    for secret in [*ids, "SECRET-CODE1", token]:
        assert secret not in text
