"""Verifier rules beyond the vectors: signature before claims, configurable tolerances, skew."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.kiosk.booking import testkeys as k
from uplink.booking import token

REPO = Path(__file__).resolve().parents[3]
SLOT = datetime(2020, 6, 15, 9, 0, tzinfo=k.WIB)


def test_claims_are_not_read_before_the_signature_verifies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A forged token never reaches the claims parser (no field of it is used)."""
    forged = k.make_token(key=k.KEY_UNKNOWN, key_id=k.kid(k.KEY_CURRENT))
    calls: list[bytes] = []
    real = token.parse_claims

    def spy(signed: bytes) -> token.Claims:
        calls.append(signed)
        return real(signed)

    monkeypatch.setattr(token, "parse_claims", spy)
    verifier = k.make_verifier()
    assert verifier.verify(forged, SLOT).reason == "bad_signature"
    assert calls == []
    assert verifier.verify(k.make_token(), SLOT).reason == "ok"
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("early", "late", "minutes", "reason"),
    [
        (0, 0, -1, "too_early"),
        (0, 0, 0, "ok"),
        (0, 0, 60, "ok"),
        (0, 0, 61, "too_late"),
        (45, 15, -45, "ok"),
        (45, 15, -46, "too_early"),
        (45, 15, 75, "ok"),
        (45, 15, 76, "too_late"),
    ],
)
def test_slot_window_follows_the_configured_tolerances(
    early: int, late: int, minutes: int, reason: str
) -> None:
    verifier = k.make_verifier(early_min=early, late_min=late)
    assert verifier.verify(k.make_token(), SLOT + timedelta(minutes=minutes)).reason == reason


def test_too_early_says_when_to_come_back() -> None:
    verdict = k.make_verifier(early_min=20).verify(k.make_token(), SLOT - timedelta(hours=1))
    assert verdict.reason == "too_early"
    assert verdict.next_step_id == "Silakan kembali mulai pukul 08.40 WIB."
    assert verdict.next_step_en == "Please come back from 08:40."


def test_issue_time_allows_clock_skew() -> None:
    """A kiosk clock a few minutes behind the issuer's still accepts a fresh token."""
    issued = SLOT + timedelta(minutes=2)
    fresh = k.make_token(issued_at=issued, expires_at=SLOT + timedelta(hours=2))
    verifier = k.make_verifier()
    assert verifier.verify(fresh, SLOT + timedelta(minutes=-2)).reason == "ok"  # 4 min behind
    assert verifier.verify(fresh, issued - timedelta(minutes=6)).reason == "not_yet_valid"


def test_day_is_the_branch_day_not_the_utc_day() -> None:
    """07:30 WIB is still the previous day in UTC; the booking is for 'today' at the branch."""
    booking = k.standard_booking(
        slot_start=datetime(2020, 6, 15, 7, 0, tzinfo=k.WIB),
        slot_end=datetime(2020, 6, 15, 8, 0, tzinfo=k.WIB),
    )
    now = datetime(2020, 6, 15, 0, 30, tzinfo=UTC)  # 07:30 WIB
    assert k.make_verifier().verify(k.make_token(booking), now).reason == "ok"


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        k.make_verifier().verify(k.make_token(), datetime(2020, 6, 15, 9))


def test_verifier_and_ledger_do_not_load_http_or_hardware_libraries() -> None:
    """kiosk.booking's offline core stays importable without requests (loaded only for sync)."""
    probe = (
        "import sys, kiosk.booking, kiosk.booking.verifier, kiosk.booking.cli;"
        "bad = [m for m in ('requests', 'urllib3', 'zxingcpp', 'cv2', 'kivy') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
