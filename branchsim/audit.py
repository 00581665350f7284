"""The end of the day: every event each device recorded, accounted for in the back office.

Each device's outbox deletes an event once the back office has acknowledged it, so the outbox
alone cannot say what was ever recorded. Before a simulated device starts, `keep_history` adds a
trigger to its outbox file that copies every recorded event's id into a `history` table in the
same transaction as the record itself: what the device committed is exactly what the history
holds. `tally` then sets that history against the back office's store and the outbox's pending
rows: an event recorded but neither stored nor pending is lost. Telemetry (heartbeats) may be
superseded by design (`uplink.outbox`), so it is counted apart and never as lost.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from uplink.outbox import Outbox

_HISTORY = """
CREATE TABLE IF NOT EXISTS history (
    event_id TEXT PRIMARY KEY,
    seq      INTEGER NOT NULL,
    type     TEXT NOT NULL,
    delivery TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS history_of_outbox AFTER INSERT ON outbox BEGIN
    INSERT OR IGNORE INTO history (event_id, seq, type, delivery)
    VALUES (new.event_id, new.seq, new.type, new.delivery);
END;
"""


def keep_history(outbox_path: Path, device_id: str) -> None:
    """Make the device's outbox (as the uplink would) and have it keep a history of records."""
    outbox_path.parent.mkdir(parents=True, exist_ok=True)
    Outbox(outbox_path, device_id).close()
    with closing(sqlite3.connect(outbox_path)) as db, db:
        db.executescript(_HISTORY)


@dataclass
class DeviceTally:
    """One device's day, as summary.json has it (see the module docstring for the terms)."""

    events_recorded: int = 0
    events_stored: int = 0
    events_pending: int = 0
    events_lost: int = 0
    telemetry_superseded: int = 0
    duplicates_stored: int = 0
    tickets_issued: int = 0
    tickets_printed: int = 0
    checkins_accepted: int = 0
    checkins_refused: dict[str, int] = field(default_factory=dict)
    temperature_referrals: int = 0
    deposits: int = 0
    collections: dict[str, int] = field(default_factory=dict)
    alerts: int = 0
    # The day's cases besides refusals (walk-ins per programme, a party checked in, told to
    # wait outside, rested and passed, paper out and refilled, a wrong PIN, UV-C...).
    day_cases: dict[str, int] = field(default_factory=dict)

    def add(self, other: DeviceTally) -> None:
        for name, value in asdict(other).items():
            mine = getattr(self, name)
            if isinstance(value, dict):
                setattr(self, name, dict(Counter(mine) + Counter(value)))
            else:
                setattr(self, name, mine + value)


@dataclass(frozen=True)
class StoredEvent:
    """One event as the back office stored it."""

    event_id: str
    device_id: str
    type: str
    occurred_at: str
    payload: Mapping[str, Any]


ALERT_TYPES = frozenset(
    {"device.fault", "dropbox.tamper", "dropbox.jam", "dropbox.collection_mismatch"}
)


def stored_events(store_path: Path) -> list[StoredEvent]:
    """Every event in the back office's SQLite store, in the order stored."""
    with closing(sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)) as db:
        rows = db.execute(
            "SELECT event_id, device_id, type, occurred_at, payload FROM events ORDER BY rowid"
        ).fetchall()
    return [
        StoredEvent(event_id, device, kind, at, json.loads(payload))
        for event_id, device, kind, at, payload in rows
    ]


def _outbox(path: Path) -> tuple[list[tuple[str, str]], set[str]]:
    """(event_id, delivery) of every event recorded, and the ids still pending."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        history = db.execute("SELECT event_id, delivery FROM history ORDER BY seq").fetchall()
        pending = {row[0] for row in db.execute("SELECT event_id FROM outbox")}
    return [(str(e), str(d)) for e, d in history], pending


def tally(outboxes: Mapping[str, Path], store_path: Path) -> dict[str, DeviceTally]:
    """Per device (the keys of `outboxes`), what it recorded against what the back office has."""
    events = stored_events(store_path)
    result: dict[str, DeviceTally] = {}
    for device_id, outbox_path in outboxes.items():
        mine = [e for e in events if e.device_id == device_id]
        history, pending = _outbox(outbox_path)
        stored_ids = Counter(e.event_id for e in mine)
        t = DeviceTally(
            events_recorded=len(history),
            events_stored=len(mine),
            events_pending=len(pending),
        )
        for event_id, delivery in history:
            if event_id in stored_ids or event_id in pending:
                continue
            if delivery == "telemetry":
                t.telemetry_superseded += 1
            else:
                t.events_lost += 1
        twice = _same_fact_twice(mine)
        t.duplicates_stored = sum(n - 1 for n in stored_ids.values()) + twice
        _count_service(t, mine)
        result[device_id] = t
    return result


def _same_fact_twice(events: Iterable[StoredEvent]) -> int:
    """Events stored under different ids that say the same thing (a check-in's acceptance or
    its ticket recorded twice, a deposit re-recorded). A ticket is the fact of one check-in:
    two check-ins with one number are `duplicate_ticket_numbers`, not a duplicate stored."""
    keys: Counter[tuple[str, str]] = Counter()
    for e in events:
        if e.type in ("kiosk.ticket.issued", "kiosk.checkin.accepted"):
            keys[(e.type, str(e.payload.get("checkin_id")))] += 1
        elif e.type == "dropbox.deposit":
            keys[(e.type, f"{e.payload.get('box_id')}#{e.payload.get('deposit_no')}")] += 1
    return sum(n - 1 for n in keys.values())


def _count_service(t: DeviceTally, events: Sequence[StoredEvent]) -> None:
    refused: Counter[str] = Counter()
    collections: Counter[str] = Counter()
    for e in events:
        if e.type == "kiosk.ticket.issued":
            t.tickets_issued += 1
            t.tickets_printed += e.payload.get("delivery") == "printed"
        elif e.type == "kiosk.checkin.accepted":
            t.checkins_accepted += 1
        elif e.type == "kiosk.checkin.refused":
            refused[str(e.payload.get("reason", "unknown"))] += 1
        elif e.type == "kiosk.temperature.outcome" and e.payload.get("outcome") == "referred":
            t.temperature_referrals += 1
        elif e.type == "dropbox.deposit":
            t.deposits += 1
        elif e.type == "dropbox.collection_confirmed":
            collections["confirmed"] += 1
        elif e.type == "dropbox.collection_mismatch":
            collections["mismatch"] += 1
        if e.type in ALERT_TYPES:
            t.alerts += 1
    t.checkins_refused = dict(sorted(refused.items()))
    t.collections = dict(sorted(collections.items()))
    t.day_cases = day_cases(events)


def day_cases(events: Iterable[StoredEvent]) -> dict[str, int]:
    """How often each of the day's cases happened, read from the stored events (refusals are
    `checkins_refused`'s)."""
    cases: Counter[str] = Counter()
    for e in events:
        p = e.payload
        if e.type == "kiosk.checkin.accepted":
            if p.get("kind") == "walkin":
                cases[f"walkin_{p.get('service')}"] += 1
            if int(p.get("party_size") or 1) > 1:
                cases["party_checked_in"] += 1
            if p.get("wait_outside"):
                cases["told_to_wait_outside"] += 1
        elif e.type == "kiosk.temperature.outcome":
            if p.get("outcome") == "passed" and int(p.get("attempts") or 1) > 1:
                cases["rested_and_passed"] += 1
            elif p.get("outcome") == "referred":
                cases["fever_referral"] += 1
        elif e.type == "device.fault" and p.get("code") == "paper_out":
            cases["paper_out" if p.get("active") else "paper_refilled"] += 1
        elif e.type == "dropbox.authorization" and p.get("granted") is False:
            cases["wrong_pin"] += 1
        elif e.type == "dropbox.tamper" and p.get("active"):
            cases["tamper_alarm"] += 1
        elif e.type == "dropbox.disinfection" and p.get("outcome") == "completed":
            cases["uv_cycle"] += 1
    return dict(sorted(cases.items()))


def _at(event: StoredEvent) -> datetime:
    return datetime.fromisoformat(event.occurred_at.replace("Z", "+00:00"))


def duplicate_ticket_numbers(events: Iterable[StoredEvent], zone: tzinfo = UTC) -> int:
    """Queue numbers handed out twice on one day across the whole branch (every kiosk's).

    Numbering starts again every day: a number is keyed by the branch day it was numbered on.
    The kiosk numbers a check-in, records its acceptance at once, and records the ticket only
    once printed (seconds later on a busy simulated clock): a number taken at 23:59:59 may be
    stamped after midnight. So the day is that of the check-in's earliest event.
    """
    numbered: dict[str, tuple[datetime, str]] = {}  # checkin_id -> (earliest stamp, number)
    for e in events:
        if e.type not in ("kiosk.ticket.issued", "kiosk.checkin.accepted"):
            continue
        checkin = f"{e.device_id}/{e.payload.get('checkin_id') or e.event_id}"
        at, number = _at(e), str(e.payload.get("ticket_number"))
        if checkin not in numbered or at < numbered[checkin][0]:
            numbered[checkin] = (at, number)
    keys = Counter(f"{at.astimezone(zone).date()} {n}" for at, n in numbered.values())
    return sum(n - 1 for n in keys.values())


def summary_document(
    devices: Mapping[str, DeviceTally], store_path: Path, zone: tzinfo = UTC, **about: Any
) -> dict[str, Any]:
    """summary.json: `about` (branch, times, speed), each device's tally and the total."""
    total = DeviceTally()
    for one in devices.values():
        total.add(one)
    return {
        **about,
        "devices": {device_id: asdict(t) for device_id, t in sorted(devices.items())},
        "total": asdict(total),
        "duplicate_ticket_numbers": duplicate_ticket_numbers(stored_events(store_path), zone),
    }


def pending_now(outboxes: Mapping[str, Path]) -> int:
    """Events waiting in the devices' outboxes right now (a sample for the report)."""
    waiting = 0
    for path in outboxes.values():
        try:
            with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.2)) as db:
                waiting += int(db.execute("SELECT count(*) FROM outbox").fetchone()[0])
        except sqlite3.Error:  # busy or not there yet: this sample counts it as zero
            continue
    return waiting
