"""Typed booking codes: looked up online (timeouts, retries), else from the synced day list."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from backoffice.bookings import BookingApi
from kiosk.booking import open_booking
from kiosk.booking.factory import BookingServices
from tests.backoffice.bookings.helpers import (
    BRANCH,
    DAY,
    BackOffice,
    kiosk_config,
    serving,
)
from tests.kiosk.booking.scripted import ScriptedServer, Step, closed_port_url
from uplink.booking import codes
from uplink.clock import ManualClock

AT_DOOR = datetime(2020, 6, 15, 2, 10, tzinfo=UTC)  # 09:10 WIB


def _kiosk(tmp_path: Path, office: BackOffice, url: str, **changes: Any) -> BookingServices:
    config = kiosk_config(tmp_path, office, api_base_url=url, **changes)
    return open_booking(config, clock=ManualClock(AT_DOOR))


def _code(office: BackOffice, start: int = 9) -> str:
    office.issue(start)
    return office.store.day(BRANCH, DAY)[-1].booking.booking_id


def test_a_typed_code_is_found_online(tmp_path: Path, office: BackOffice, api: BookingApi) -> None:
    code = _code(office)
    kiosk = _kiosk(tmp_path, office, api.url)
    verdict = kiosk.lookup.lookup(codes.display(code).lower(), AT_DOOR)
    assert verdict.reason == "ok"
    assert verdict.booking is not None and verdict.booking.booking_id == code


def test_look_alike_characters_are_forgiven(tmp_path: Path, office: BackOffice) -> None:
    body = "0I1LO0AB"  # typed with O, I and L: read as 0, 1, 1
    canonical = "01110" + "0AB"
    code = canonical + codes.check_symbol(canonical)
    office.issue(9, booking_id=code)
    with serving(office) as api:
        kiosk = _kiosk(tmp_path, office, api.url)
        assert kiosk.lookup.lookup(body + code[-1], AT_DOOR).reason == "ok"


def test_a_typo_is_caught_before_asking(tmp_path: Path, office: BackOffice) -> None:
    script = ScriptedServer(Step(500))
    with script.running():
        kiosk = _kiosk(tmp_path, office, script.url)
        code = codes.new_code()
        typo = code[:3] + ("X" if code[3] != "X" else "Y") + code[4:]
        verdict = kiosk.lookup.lookup(typo, AT_DOOR)
        assert verdict.reason == "bad_code"
        assert "7K3-QX9-M2A" in verdict.next_step_id
        assert kiosk.lookup.lookup("12", AT_DOOR).reason == "bad_code"
    assert script.requests == []


def test_an_unknown_code_is_not_found(tmp_path: Path, office: BackOffice, api: BookingApi) -> None:
    kiosk = _kiosk(tmp_path, office, api.url)
    verdict = kiosk.lookup.lookup(codes.new_code(), AT_DOOR)
    assert verdict.reason == "code_not_found"
    assert verdict.message_id == "Kode pemesanan tidak ditemukan."


def test_the_back_office_knows_of_a_cancellation_the_kiosk_has_not_synced(
    tmp_path: Path, office: BackOffice, api: BookingApi
) -> None:
    code = _code(office)
    kiosk = _kiosk(tmp_path, office, api.url)
    office.issuer.cancel(code)
    assert kiosk.lookup.lookup(code, AT_DOOR).reason == "cancelled"


def test_a_check_in_at_another_kiosk_is_seen_at_once(
    tmp_path: Path, office: BackOffice, api: BookingApi
) -> None:
    code = _code(office)
    office.store.add_checkins([(code, "kiosk-2", datetime(2020, 6, 15, 2, 5, tzinfo=UTC))])
    verdict = _kiosk(tmp_path, office, api.url).lookup.lookup(code, AT_DOOR)
    assert verdict.reason == "already_checked_in"
    assert "09.05 WIB" in verdict.message_id


def test_offline_falls_back_to_the_synced_day_list(
    tmp_path: Path, office: BackOffice, api: BookingApi
) -> None:
    code = _code(office)
    _kiosk(tmp_path, office, api.url).sync.sync_once()
    cut_off = _kiosk(tmp_path, office, closed_port_url(), lookup_retries=0)
    assert cut_off.lookup.lookup(code, AT_DOOR).reason == "ok"
    unknown = cut_off.lookup.lookup(codes.new_code(), AT_DOOR)
    assert unknown.reason == "lookup_offline"
    assert "Tunjukkan kode QR" in unknown.next_step_id


def test_a_hung_back_office_times_out_then_retries_once(tmp_path: Path, office: BackOffice) -> None:
    script = ScriptedServer(Step(hang=True))
    with script.running():
        kiosk = _kiosk(tmp_path, office, script.url, read_timeout_s=0.2, lookup_retries=1)
        assert kiosk.lookup.lookup(codes.new_code(), AT_DOOR).reason == "lookup_offline"
    assert len(script.requests) == 2


def test_a_server_error_is_retried_then_answered(tmp_path: Path, office: BackOffice) -> None:
    code = _code(office)
    stored = office.store.booking(code)
    assert stored is not None
    answer = ('{"booking_id": "%s", "token": "%s"}' % (code, stored.token)).encode()  # noqa: UP031
    script = ScriptedServer(Step(503), Step(200, answer))
    with script.running():
        kiosk = _kiosk(tmp_path, office, script.url, lookup_retries=1)
        assert kiosk.lookup.lookup(code, AT_DOOR).reason == "ok"
    assert [path for path, _ in script.requests] == [f"/v1/bookings/{code}"] * 2


@pytest.mark.parametrize(
    "body", [b"not json", b'{"token": 5}', b"[]", b'{"token": "x", "checkins": [{"at": "bad"}]}']
)
def test_a_malformed_answer_is_treated_as_offline(
    tmp_path: Path, office: BackOffice, body: bytes
) -> None:
    script = ScriptedServer(Step(200, body))
    with script.running():
        kiosk = _kiosk(tmp_path, office, script.url)
        assert kiosk.lookup.lookup(codes.new_code(), AT_DOOR).reason == "lookup_offline"


def test_an_answer_for_another_booking_is_not_accepted(tmp_path: Path, office: BackOffice) -> None:
    code = _code(office)
    stored = office.store.booking(code)
    assert stored is not None
    answer = ('{"token": "%s"}' % stored.token).encode()  # noqa: UP031
    script = ScriptedServer(Step(200, answer))
    with script.running():
        kiosk = _kiosk(tmp_path, office, script.url)
        assert kiosk.lookup.lookup(code, AT_DOOR).reason == "ok"
        assert kiosk.lookup.lookup(codes.new_code(), AT_DOOR).reason == "code_not_found"


def test_a_forged_answer_is_still_verified(tmp_path: Path, office: BackOffice) -> None:
    """The lookup answer is not trusted: its token goes through the same verifier."""
    script = ScriptedServer(Step(200, b'{"token": "LA1:ABC"}'))
    with script.running():
        kiosk = _kiosk(tmp_path, office, script.url)
        assert kiosk.lookup.lookup(codes.new_code(), AT_DOOR).reason == "bad_encoding"
