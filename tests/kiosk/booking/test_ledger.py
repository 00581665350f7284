"""The check-in ledger: durable claims, exactly-once under threads, cross-kiosk merge."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.booking import CheckinLedger, CheckinRecord

AT = datetime(2020, 6, 15, 2, 5, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[3]


def test_claim_is_once_only(tmp_path: Path) -> None:
    ledger = CheckinLedger(tmp_path / "ledger.db")
    assert ledger.claim("7K3QX9M2A", "kiosk-1", AT)
    assert not ledger.claim("7K3QX9M2A", "kiosk-1", AT + timedelta(minutes=1))
    record = ledger.record("7K3QX9M2A")
    assert record == CheckinRecord("7K3QX9M2A", "kiosk-1", AT, local=True)
    assert ledger.is_checked_in("7K3QX9M2A")
    assert not ledger.is_checked_in("OTHER0000")


def test_claim_survives_a_killed_process(tmp_path: Path) -> None:
    """GIVEN a process that claims and dies unclosed WHEN reopened THEN the claim is there."""
    path = tmp_path / "ledger.db"
    script = (
        "import os, sys; from datetime import datetime, UTC;"
        "from kiosk.booking.ledger import CheckinLedger;"
        f"at = datetime.fromisoformat({AT.isoformat()!r});"
        f"ok = CheckinLedger({str(path)!r}).claim('7K3QX9M2A', 'kiosk-1', at);"
        "os._exit(0 if ok else 3)"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, timeout=30, check=False)
    assert done.returncode == 0
    reopened = CheckinLedger(path)
    assert reopened.is_checked_in("7K3QX9M2A")
    assert not reopened.claim("7K3QX9M2A", "kiosk-1", AT)


def test_concurrent_claims_on_two_connections_give_one_winner(tmp_path: Path) -> None:
    """Two engines sharing one ledger file race for the same booking: exactly one wins."""
    path = tmp_path / "ledger.db"
    ledgers = [CheckinLedger(path) for _ in range(4)]
    wins: list[bool] = []
    barrier = threading.Barrier(len(ledgers))

    def claim(ledger: CheckinLedger) -> None:
        barrier.wait()
        wins.append(ledger.claim("7K3QX9M2A", "kiosk-1", AT))

    threads = [threading.Thread(target=claim, args=(ledger,)) for ledger in ledgers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(wins) == [False, False, False, True]


def test_merge_adds_other_kiosks_and_finds_duplicates_once(tmp_path: Path) -> None:
    ledger = CheckinLedger(tmp_path / "ledger.db")
    ledger.claim("AAAAAAAA0", "kiosk-1", AT)
    remote = [
        CheckinRecord("AAAAAAAA0", "kiosk-2", AT + timedelta(minutes=2), local=False),
        CheckinRecord("BBBBBBBB0", "kiosk-2", AT, local=False),
        CheckinRecord("AAAAAAAA0", "kiosk-1", AT, local=False),  # own echo: skipped
        CheckinRecord("CCCCCCCC0", "kiosk-1", AT, local=False),  # own, lost here: restored
    ]
    first = ledger.merge_remote(remote, "kiosk-1")
    assert first.added == 2
    assert [(d.booking_id, d.local_kiosk, d.remote_kiosk) for d in first.duplicates] == [
        ("AAAAAAAA0", "kiosk-1", "kiosk-2")
    ]
    again = ledger.merge_remote(remote, "kiosk-1")
    assert again.added == 0 and again.duplicates == []
    assert len(ledger.duplicates()) == 1
    assert ledger.record("BBBBBBBB0") == CheckinRecord("BBBBBBBB0", "kiosk-2", AT, local=False)
    assert ledger.record("CCCCCCCC0") == CheckinRecord("CCCCCCCC0", "kiosk-1", AT, local=True)
    assert ledger.count() == 3 and ledger.count(local_only=True) == 2
    # A remote record never overwrites the local one, and a third kiosk is a second duplicate.
    third = ledger.merge_remote([CheckinRecord("AAAAAAAA0", "kiosk-3", AT, False)], "kiosk-1")
    assert len(third.duplicates) == 1
    assert ledger.record("AAAAAAAA0") == CheckinRecord("AAAAAAAA0", "kiosk-1", AT, local=True)


def test_prune_forgets_old_days(tmp_path: Path) -> None:
    ledger = CheckinLedger(tmp_path / "ledger.db")
    ledger.claim("AAAAAAAA0", "kiosk-1", AT - timedelta(days=3))
    ledger.claim("BBBBBBBB0", "kiosk-1", AT)
    assert ledger.prune(AT - timedelta(days=1)) == 1
    assert not ledger.is_checked_in("AAAAAAAA0")
    assert ledger.is_checked_in("BBBBBBBB0")
