"""The README's main command: a whole branch in simulation, end to end on real parts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from provisioning.branch import main


@pytest.mark.slow
def test_a_simulated_branch_checks_in_participants_and_logs_deposits(tmp_path: Path) -> None:
    work = tmp_path / "branch"
    assert main(["--duration-s", "20", "--speed", "20", "--kiosks", "2", "--dir", str(work)]) == 0

    events = work / "backoffice" / "events.db"
    by_type = dict(
        sqlite3.connect(events).execute("SELECT type, count(*) FROM events GROUP BY type")
    )
    assert by_type.get("kiosk.ticket.issued", 0) >= 4
    assert by_type.get("dropbox.deposit", 0) >= 3
    assert by_type.get("dropbox.collection_confirmed", 0) == 1
    # Both kiosks took part, and every ticket they printed is a PNG.
    devices = {row[0] for row in sqlite3.connect(events).execute("SELECT device_id FROM events")}
    assert {"kiosk-1", "kiosk-2", "dropbox-1"} <= devices
    tickets = list(work.glob("kiosk-*/tickets/ticket-*.png"))
    assert len(tickets) >= by_type["kiosk.ticket.issued"]
    # Queue numbers are unique across the kiosks.
    numbers = [
        row[0]
        for row in sqlite3.connect(events).execute(
            "SELECT json_extract(payload, '$.ticket_number') FROM events"
            " WHERE type = 'kiosk.ticket.issued'"
        )
    ]
    assert len(numbers) == len(set(numbers))
