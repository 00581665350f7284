"""The dropbox's event vocabulary: names and payloads for `uplink/schemas/events/dropbox.*.v1.json`.

Every event the box records is built here, so the machine and the agent never spell an event
name or a payload inline. Box events carry the `box_id` first; `device.fault` does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

AUTHORIZATION = "dropbox.authorization"
COLLECTION_CONFIRMED = "dropbox.collection_confirmed"
COLLECTION_MISMATCH = "dropbox.collection_mismatch"
COLLECTION_STARTED = "dropbox.collection_started"
COUNT_REFUSED = "dropbox.count_refused"
DEPOSIT = "dropbox.deposit"
DISINFECTION = "dropbox.disinfection"
DOOR = "dropbox.door"
FILL = "dropbox.fill"
HEARTBEAT = "dropbox.heartbeat"
JAM = "dropbox.jam"
TAMPER = "dropbox.tamper"
FAULT = "device.fault"

TamperCause = Literal["switch", "door_forced", "auth_failures"]
UvTrigger = Literal["after_collection", "schedule"]


@dataclass(frozen=True)
class Event:
    """One event to record: its vocabulary name and its payload (not yet dated)."""

    type: str
    payload: dict[str, Any]


def _box(type_name: str, box_id: str, **fields: Any) -> Event:
    return Event(type_name, {"box_id": box_id, **fields})


def deposit(
    box_id: str,
    *,
    deposit_no: int,
    code: str,
    blocked_ms: int,
    pending_collection: int,
    after_jam: bool,
    during_collection: bool,
    booking_ref: str | None,
) -> Event:
    """A document went through the slot (the beam was blocked, then cleared)."""
    event = _box(
        DEPOSIT,
        box_id,
        deposit_no=deposit_no,
        code=code,
        blocked_ms=blocked_ms,
        pending_collection=pending_collection,
    )
    if after_jam:
        event.payload["after_jam"] = True
    if during_collection:
        event.payload["during_collection"] = True
    if booking_ref is not None:
        event.payload["booking_ref"] = booking_ref
    return event


def jam(box_id: str, *, active: bool, blocked_s: float) -> Event:
    """The slot's beam stayed blocked too long (active), or cleared after a jam."""
    return _box(JAM, box_id, active=active, blocked_s=blocked_s)


def door(box_id: str, *, open: bool, authorized: bool, collection_id: str | None = None) -> Event:
    """The door opened or closed; `collection_id` when a collection is open."""
    event = _box(DOOR, box_id, open=open, authorized=authorized)
    if collection_id is not None:
        event.payload["collection_id"] = collection_id
    return event


def tamper(box_id: str, *, cause: TamperCause, active: bool) -> Event:
    """An alarm began (active) or ended: the tamper switch, a forced door, or a lockout."""
    return _box(TAMPER, box_id, cause=cause, active=active)


def authorization(
    box_id: str,
    *,
    method: str,
    officer_id: str | None,
    locked_out: bool = False,
) -> Event:
    """A credential was checked: granted when it names an officer (never while locked out)."""
    event = _box(AUTHORIZATION, box_id, method=method, granted=False)
    if locked_out:
        event.payload["locked_out"] = True
    elif officer_id is not None:
        event.payload.update(granted=True, officer_id=officer_id)
    return event


def collection_started(
    box_id: str,
    *,
    collection_id: str,
    officer_id: str,
    method: str,
    deposits_logged: int,
    first_deposit_no: int | None,
    last_deposit_no: int,
) -> Event:
    """An officer opened the door for a new collection; the deposit numbers it takes out."""
    event = _box(
        COLLECTION_STARTED,
        box_id,
        collection_id=collection_id,
        officer_id=officer_id,
        method=method,
        deposits_logged=deposits_logged,
    )
    if first_deposit_no is not None:
        event.payload["first_deposit_no"] = first_deposit_no
        event.payload["last_deposit_no"] = last_deposit_no
    return event


def collection_counted(
    box_id: str,
    *,
    collection_id: str,
    officer_id: str,
    deposits_logged: int,
    counted: int,
    source: str,
) -> Event:
    """The officer's count: confirmed when it matches the deposits logged, else a mismatch."""
    fields: dict[str, Any] = {
        "collection_id": collection_id,
        "officer_id": officer_id,
        "deposits_logged": deposits_logged,
        "counted": counted,
        "source": source,
    }
    if counted == deposits_logged:
        return _box(COLLECTION_CONFIRMED, box_id, **fields)
    return _box(COLLECTION_MISMATCH, box_id, **fields, difference=counted - deposits_logged)


def count_refused(box_id: str, *, collection_id: str, counted: int, reason: str) -> Event:
    """A count from the back office that cannot be taken (it names its collection)."""
    return _box(COUNT_REFUSED, box_id, collection_id=collection_id, counted=counted, reason=reason)


def fill(box_id: str, *, level: str, fill_percent: int, distance_cm: float) -> Event:
    """The fill level changed (ok, nearly_full, full)."""
    return _box(
        FILL, box_id, level=level, fill_percent=fill_percent, distance_cm=round(distance_cm, 1)
    )


def disinfection_completed(box_id: str, *, trigger: UvTrigger, duration_s: float) -> Event:
    """A UV-C cycle ran to its end."""
    return _box(DISINFECTION, box_id, outcome="completed", trigger=trigger, duration_s=duration_s)


def disinfection_aborted(
    box_id: str, *, trigger: UvTrigger, reason: Literal["door_open", "tamper"], duration_s: float
) -> Event:
    """A UV-C cycle stopped early (the door opened or the box was tampered with)."""
    return _box(
        DISINFECTION,
        box_id,
        outcome="aborted",
        trigger=trigger,
        reason=reason,
        duration_s=round(max(0.0, duration_s), 3),
    )


def heartbeat(
    box_id: str,
    *,
    pending: int,
    total: int,
    door_open: bool,
    faults: list[str],
    fill_percent: int | None,
) -> Event:
    """The periodic summary of the box."""
    event = _box(
        HEARTBEAT,
        box_id,
        deposits_pending_collection=pending,
        deposits_total=total,
        door="open" if door_open else "closed",
        faults=faults,
    )
    if fill_percent is not None:
        event.payload["fill_percent"] = fill_percent
    return event


def fault(component: str, code: str, active: bool, detail: str = "") -> Event:
    """A device fault began (active) or cleared; `detail` is cut to the schema's 500 characters."""
    payload: dict[str, Any] = {"component": component, "code": code, "active": active}
    if detail:
        payload["detail"] = detail[:500]
    return Event(FAULT, payload)
