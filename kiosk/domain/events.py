"""The kiosk's event vocabulary: payloads for `uplink/schemas/events/kiosk.*.v1.json`.

Privacy: temperature events carry the outcome only. The reading and the booking id go in only
when the config asks for them (`[privacy]`); refusals carry the booking id only when its signature
verified (an unverified id could be anyone's).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from kiosk.domain.temperature import GateResult

ACCEPTED = "kiosk.checkin.accepted"
REFUSED = "kiosk.checkin.refused"
TEMPERATURE = "kiosk.temperature.outcome"
TICKET = "kiosk.ticket.issued"
DUPLICATE = "kiosk.checkin.duplicate"
FAULT = "device.fault"

Kind = Literal["booking", "walkin"]


def accepted(
    *,
    checkin_id: str,
    kind: Kind,
    klass: str,
    service: str,
    ticket_number: str,
    party_size: int,
    wait_outside: bool,
    temperature: Literal["passed", "staff_check"],
    booking_id: str | None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "checkin_id": checkin_id,
        "kind": kind,
        "priority_class": klass,
        "service": service,
        "ticket_number": ticket_number,
        "party_size": party_size,
        "wait_outside": wait_outside,
        "temperature": temperature,
    }
    if booking_id is not None:
        payload["booking_id"] = booking_id
    return payload


def refused(*, reason: str, booking_id: str | None, service: str | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"stage": "booking", "reason": reason}
    if booking_id is not None:
        payload["booking_id"] = booking_id
    if service is not None:
        payload["service"] = service
    return payload


def temperature(
    result: GateResult,
    *,
    kind: Kind,
    threshold_c: float,
    store_reading: bool,
    booking_id: str | None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "outcome": result.outcome.value,
        "attempts": result.attempts,
        "kind": kind,
        "threshold_c": threshold_c,
    }
    if result.reason:
        payload["reason"] = result.reason
    if store_reading and result.temperature_c is not None:
        payload["temperature_c"] = result.temperature_c
    if booking_id is not None:
        payload["booking_id"] = booking_id
    return payload


def ticket(
    *,
    checkin_id: str,
    ticket_number: str,
    delivery: Literal["printed", "screen_only"],
    printer_status: str,
    fault_code: str | None = None,
    walkin_code: str | None = None,
) -> dict[str, Any]:
    """The kiosk.ticket.issued payload; `walkin_code` only for a walk-in (its tracking code)."""
    payload: dict[str, Any] = {
        "checkin_id": checkin_id,
        "ticket_number": ticket_number,
        "delivery": delivery,
        "printer_status": printer_status,
    }
    if fault_code:
        payload["fault_code"] = fault_code
    if walkin_code:
        payload["walkin_code"] = walkin_code
    return payload


def fault(component: str, code: str, active: bool, detail: str = "") -> dict[str, Any]:
    payload: dict[str, Any] = {"component": component, "code": code, "active": active}
    if detail:
        payload["detail"] = detail[:500]
    return payload


def duplicate(
    *,
    booking_id: str,
    local_kiosk: str,
    local_at: datetime,
    remote_kiosk: str,
    remote_at: datetime,
) -> dict[str, Any]:
    """A booking checked in here and at another kiosk (found when the ledgers sync)."""
    return {
        "booking_id": booking_id,
        "local_kiosk": local_kiosk,
        "local_at": wire_time(local_at),
        "remote_kiosk": remote_kiosk,
        "remote_at": wire_time(remote_at),
    }


def wire_time(moment: datetime) -> str:
    """The wire's timestamp format (as `uplink.clock.utc_iso`): UTC, milliseconds, a Z."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )
