"""The end-of-day accounting: recorded against stored and pending, lost and duplicates."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from backoffice.store import SqliteEventStore
from branchsim.audit import keep_history, stored_events, summary_document, tally
from branchsim.report import Outage, Sample, write_report
from uplink import ManualClock, Outbox

AT = datetime(2026, 11, 30, 16, 55, tzinfo=UTC)  # 23:55 WIB


def _deposit(n: int) -> dict[str, object]:
    return {"box_id": "box-1", "deposit_no": n, "code": f"7K3Q-{n:04d}", "blocked_ms": 120,
            "pending_collection": n}  # fmt: skip


def test_an_event_neither_stored_nor_pending_is_lost(tmp_path: Path) -> None:
    # GIVEN a dropbox whose outbox keeps its history, and a back office
    outbox_path = tmp_path / "dropbox-1" / "outbox.db"
    keep_history(outbox_path, "dropbox-1")
    clock = ManualClock(AT)
    outbox = Outbox(outbox_path, "dropbox-1", clock=clock)
    store = SqliteEventStore(tmp_path / "events.db")
    delivered = [outbox.record("dropbox.deposit", _deposit(n)) for n in (1, 2)]
    store.store_events(delivered, "2026-11-30T16:56:00.000Z")
    outbox.ack(e.event_id for e in delivered)
    outbox.record("dropbox.deposit", _deposit(3))  # still pending: not lost
    vanished = outbox.record("dropbox.deposit", _deposit(4))
    beat = outbox.record("device.heartbeat", {"uptime_s": 1.0, "pending": 2})
    # WHEN one critical event and one heartbeat disappear without reaching the back office
    with sqlite3.connect(outbox_path) as db:
        db.execute(
            "DELETE FROM outbox WHERE event_id IN (?, ?)", (vanished.event_id, beat.event_id)
        )
    outbox.close()
    store.close()

    # THEN the critical one is lost, the heartbeat only superseded
    day = tally({"dropbox-1": outbox_path}, tmp_path / "events.db")["dropbox-1"]
    assert (day.events_recorded, day.events_stored, day.events_pending) == (5, 2, 1)
    assert day.events_lost == 1
    assert day.telemetry_superseded == 1
    assert day.deposits == 2 and day.duplicates_stored == 0


def test_the_same_deposit_stored_under_two_ids_is_a_duplicate(tmp_path: Path) -> None:
    outbox_path = tmp_path / "outbox.db"
    keep_history(outbox_path, "dropbox-1")
    outbox = Outbox(outbox_path, "dropbox-1", clock=ManualClock(AT))
    store = SqliteEventStore(tmp_path / "events.db")
    # A box that re-recorded deposit 7 after a crash, under a new event id
    twice = [outbox.record("dropbox.deposit", _deposit(7)) for _ in range(2)]
    store.store_events(twice, "2026-11-30T16:56:00.000Z")
    outbox.ack(e.event_id for e in twice)
    outbox.close()
    store.close()

    devices = tally({"dropbox-1": outbox_path}, tmp_path / "events.db")
    document = summary_document(devices, tmp_path / "events.db", branch="b")

    assert devices["dropbox-1"].duplicates_stored == 1
    assert document["total"]["duplicates_stored"] == 1
    assert document["total"]["events_lost"] == 0
    assert json.loads(json.dumps(document)) == document  # summary.json as written


def test_the_report_is_one_page_with_charts_and_escapes_what_devices_sent(tmp_path: Path) -> None:
    outbox_path = tmp_path / "outbox.db"
    keep_history(outbox_path, "kiosk-1")
    outbox = Outbox(outbox_path, "kiosk-1", clock=ManualClock(AT))
    store = SqliteEventStore(tmp_path / "events.db")
    fault = outbox.record(
        "device.fault",
        {
            "component": "printer",
            "code": "paper_out",
            "active": True,
            "detail": "<script>alert(1)</script>",
        },
    )
    store.store_events([fault], "2026-11-30T16:56:00.000Z")
    outbox.close()
    store.close()
    summary = summary_document(
        tally({"kiosk-1": outbox_path}, tmp_path / "events.db"),
        tmp_path / "events.db",
        branch="jakarta-salemba",
        sim_start="2026-11-30T16:50:00.000Z",
        sim_end="2026-11-30T17:20:00.000Z",
        speed=10.0,
    )
    samples = [Sample(AT + timedelta(minutes=m), m % 5, 3 if 10 <= m < 15 else 0)
               for m in range(30)]  # fmt: skip
    outage = Outage(AT + timedelta(minutes=10), AT + timedelta(minutes=15))

    page = write_report(
        tmp_path / "report.html",
        summary=summary,
        events=stored_events(tmp_path / "events.db"),
        samples=samples,
        outages=[outage],
        zone=ZoneInfo("Asia/Jakarta"),
        capacity=25,
    ).read_text(encoding="utf-8")

    assert page.count("<svg") == 4
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert not re.search(r"""(src|href)=["']?https?:|<link|<script""", page)  # nothing fetched
    assert "23:55" in page  # times in WIB, not UTC (16:55)
    assert "link down" in page and "link restored" in page


def test_a_queue_number_is_unique_per_branch_day_not_forever() -> None:
    from branchsim.audit import StoredEvent, duplicate_ticket_numbers

    def ticket(at: str, number: str) -> StoredEvent:
        return StoredEvent(
            "e" + at, "kiosk-1", "kiosk.ticket.issued", at, {"ticket_number": number}
        )

    wib = ZoneInfo("Asia/Jakarta")
    before_midnight = ticket("2026-11-30T16:58:00.000Z", "JHT A1-001")  # 23:58 WIB
    after_midnight = ticket("2026-11-30T17:01:00.000Z", "JHT A1-001")  # 00:01 WIB, a new day
    same_day_again = ticket("2026-11-30T17:05:00.000Z", "JHT A1-001")

    assert duplicate_ticket_numbers([before_midnight, after_midnight], wib) == 0
    assert duplicate_ticket_numbers([before_midnight, after_midnight, same_day_again], wib) == 1


def test_the_day_s_cases_are_read_from_the_stored_events() -> None:
    from branchsim.audit import StoredEvent, day_cases

    def event(type_: str, **payload: object) -> StoredEvent:
        return StoredEvent("e", "kiosk-1", type_, "2026-11-30T16:55:00.000Z", payload)

    events = [
        event("kiosk.checkin.accepted", kind="walkin", service="JKM", party_size=1),
        event(
            "kiosk.checkin.accepted",
            kind="booking",
            service="JHT",
            party_size=12,
            wait_outside=True,
        ),
        event("kiosk.temperature.outcome", outcome="passed", attempts=2),
        event("kiosk.temperature.outcome", outcome="passed", attempts=1),
        event("kiosk.temperature.outcome", outcome="referred", attempts=2),
        event("device.fault", component="printer", code="paper_out", active=True),
        event("device.fault", component="printer", code="paper_out", active=False),
        event("dropbox.authorization", method="pin", granted=False),
        event("dropbox.authorization", method="pin", granted=True),
        event("dropbox.tamper", cause="door_forced", active=True),
        event("dropbox.disinfection", outcome="completed"),
        event("dropbox.disinfection", outcome="aborted"),
    ]

    assert day_cases(events) == {
        "fever_referral": 1,
        "paper_out": 1,
        "paper_refilled": 1,
        "party_checked_in": 1,
        "rested_and_passed": 1,
        "tamper_alarm": 1,
        "told_to_wait_outside": 1,
        "uv_cycle": 1,
        "walkin_JKM": 1,
        "wrong_pin": 1,
    }


def test_a_number_taken_before_midnight_and_printed_after_is_no_duplicate() -> None:
    """The flaky duplicate of the any-hour test started at 16:59Z (23:59 WIB): kiosk-1 numbered
    a check-in at 23:59:59 WIB (JHT A1-001 of 30 November), recorded its acceptance at once, and
    its ticket once printed, after midnight; the first JHT check-in of 1 December then got
    JHT A1-001 of its own day. The audit keyed tickets by their event's stamp, so it saw
    "2026-12-01 JHT A1-001" twice and reported a duplicate stored."""
    from branchsim.audit import StoredEvent, _same_fact_twice, duplicate_ticket_numbers

    def event(type_: str, checkin: str, at: str, event_id: str) -> StoredEvent:
        payload = {"checkin_id": checkin, "ticket_number": "JHT A1-001"}
        return StoredEvent(event_id, "kiosk-1", type_, at, payload)

    events = [
        event("kiosk.checkin.accepted", "c-1", "2026-11-30T16:59:59.500Z", "e1"),
        event("kiosk.ticket.issued", "c-1", "2026-11-30T17:00:02.000Z", "e2"),  # printed late
        event("kiosk.checkin.accepted", "c-2", "2026-11-30T17:00:30.000Z", "e3"),
        event("kiosk.ticket.issued", "c-2", "2026-11-30T17:00:31.000Z", "e4"),
    ]
    wib = ZoneInfo("Asia/Jakarta")

    assert _same_fact_twice(events) == 0
    assert duplicate_ticket_numbers(events, wib) == 0
    # ...while one number given to two check-ins on one day is still caught, and one ticket
    # stored twice under two event ids is a duplicate stored.
    again = event("kiosk.checkin.accepted", "c-3", "2026-11-30T17:01:00.000Z", "e5")
    assert duplicate_ticket_numbers([*events, again], wib) == 1
    twice = event("kiosk.ticket.issued", "c-2", "2026-11-30T17:00:32.000Z", "e6")
    assert _same_fact_twice([*events, twice]) == 1
