"""A kiosk SIGKILLed at the exact points of a ticket's delivery records its ticket event once.

Real parts: the kiosk's engine in its own process (`tests/kiosk/kill_child.py`) over real
SQLite files (ledger, ticket book, outbox), SIGKILL, a second process over the same files.
Simulated: the thermometer and printer. A walk-in is used: it never comes back with a QR, so
only the kiosk's own start can settle its ticket.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def child(directory: Path, point: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.kiosk.kill_child", str(directory), point],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def restarted(directory: Path) -> dict[str, Any]:
    done = child(directory, "restart")
    assert done.returncode == 0, done.stderr[-2000:]
    answer: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return answer


@pytest.mark.parametrize(
    ("point", "first_delivery"),
    [
        ("after-ticket-event", "printed"),  # the event committed, the book never marked it
        ("after-delivery-mark", "printed"),  # both committed (the mark once came first)
        ("mid-print", "screen_only"),  # nothing committed after the print claim
    ],
)
def test_a_walk_in_ticket_killed_mid_delivery_has_one_ticket_event_after_restarts(
    tmp_path: Path, point: str, first_delivery: str
) -> None:
    """GIVEN a kiosk SIGKILLed at `point` of a walk-in's ticket WHEN it starts again, twice,
    THEN its outbox holds exactly one kiosk.ticket.issued for that check-in: the one recorded
    before the kill if there was one (same id, same payload), else the settled one; and the
    book has nothing left printing."""
    killed = child(tmp_path, point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]

    first = restarted(tmp_path)
    again = restarted(tmp_path)

    [ticket] = first["tickets"]
    assert ticket["delivery"] == first_delivery
    assert first["printing"] == 0
    assert again == first  # the second start records nothing more
    if point == "mid-print":
        assert (ticket["printer_status"], ticket["fault_code"]) == ("unknown", "print_interrupted")
        assert "walkin_code" in ticket
