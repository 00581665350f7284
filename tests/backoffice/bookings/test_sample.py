"""A sample day (for the simulated branch): reproducible, every token verifies on its day."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from backoffice.bookings import issue_sample_day
from kiosk.booking.verifier import BookingVerifier, Rules
from tests.kiosk.booking.testkeys import MemoryCheckins, StaticFacts
from uplink.booking import trustlist

DAY = date(2020, 6, 15)


def test_sample_day_verifies_and_is_reproducible(tmp_path: Path) -> None:
    day = issue_sample_day(
        tmp_path / "a", "denpasar", DAY, 40, timezone="Asia/Makassar", seed=7, qr=False
    )
    assert day.images == [] and len(day.token_files) == 40
    held = trustlist.parse(
        day.trust_list_path.read_bytes(), [trustlist.load_anchor(day.trust_anchor)]
    )
    zone = ZoneInfo("Asia/Makassar")
    verifier = BookingVerifier(Rules("denpasar", zone), StaticFacts(held), MemoryCheckins())
    for item in day.bookings:
        at_door = datetime.combine(DAY, item.booking.slot_start.time(), zone)
        assert verifier.verify(item.token, at_door).reason == "ok", item.booking
    services = Counter(item.booking.service for item in day.bookings)
    assert services.most_common(1)[0][0] == "JHT"
    assert day.bookings[0].booking.slot_start.time() == time(8)
    assert day.bookings[-1].booking.slot_start.time() == time(14)

    again = issue_sample_day(
        tmp_path / "b", "denpasar", DAY, 40, timezone="Asia/Makassar", seed=7, qr=False
    )
    assert [b.booking for b in again.bookings] == [b.booking for b in day.bookings]
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["trust_anchor"] == day.trust_anchor
    assert [b["token"] for b in manifest["bookings"]] == [b.token for b in day.bookings]
