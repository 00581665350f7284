"""Every screen the touchscreen can show, built from the engine's own screen builders (no Kivy).

The gallery draws these, the tests check them for clipped text; the names are the gallery's.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from kiosk.bilingual import Bilingual
from kiosk.booking.reasons import verdict
from kiosk.domain import screens
from kiosk.domain.screens import Screen
from kiosk.domain.temperature import GateResult, Outcome
from kiosk.domain.tickets import Ticket
from kiosk.ui.view import Local
from uplink.booking.model import Booking

_ZONE = ZoneInfo("Asia/Jakarta")
_SLOT = datetime(2026, 6, 16, 9, 0, tzinfo=_ZONE)
_BOOKING = Booking(
    "B1", "jakarta-salemba", "JHT", "online", 1, _SLOT, _SLOT + timedelta(hours=1), "B*** S******"
)
_TICKET = Ticket(
    "c1", "JHT A1-007", "JHT", "online", "KCP Jakarta Salemba",
    datetime(2026, 6, 15, 9, 30, tzinfo=UTC), "B1", "https://x.example/lacak?ref=B1",
    people_ahead=4,
)  # fmt: skip
_AGE = Bilingual("Data pemesanan diperbarui 3 menit lalu.", "Booking data updated 3 min ago.")
_CODE = "7K3QX9M2S"  # a booking code: the tracking code of a booked check-in
NOW = 100.0  # monotonic seconds of the samples; deadlines are set relative to it


def samples() -> dict[str, tuple[Screen, Local]]:
    """Gallery name → (engine screen, touchscreen state), one per screen of issue 13."""
    idle = screens.idle(full=False, data_age=_AGE)
    full = screens.idle(full=True, data_age=_AGE)
    wrong_day = verdict("wrong_day", _BOOKING, "tomorrow", **_wrong_day_extra())
    return {
        "welcome": (idle, Local()),
        "welcome_full": (full, Local()),
        "welcome_clock": (replace(idle, clock_unsynced=True), Local()),
        "scanning": (idle, Local(seen_not_read=True)),
        "keypad": (idle, Local(mode="keypad", typed="7K3QX")),
        "checking": (screens.checking_code(), Local()),
        "choose_service": (_until(screens.choose_service("c1"), 8), Local(countdown_s=8)),
        "collective": (
            screens.measuring(
                "c1", present=True, attempt=1, party=screens.Party("PT Maju Bersama", 24)
            ),
            Local(),
        ),
        "temperature": (
            screens.measuring("c1", present=True, attempt=1),
            Local(reading_c=36.4),
        ),
        "resting": (_until(screens.resting("c1", attempt=1), 17), Local(rest_s=17)),
        "printing": (screens.printing(_TICKET), Local()),
        "ticket": (
            _until(screens.ticket(_TICKET, printed=True), 12),
            Local(countdown_s=12),
        ),
        "ticket_unprinted": (
            _until(
                screens.ticket(replace(_TICKET, wait_outside=True, track_ref=_CODE), printed=False),
                12,
            ),
            Local(countdown_s=12),
        ),
        "refused": (_until(screens.refused(wrong_day), 9), Local(countdown_s=9)),
        "refused_branch": (
            _until(screens.refused(verdict("wrong_branch", _BOOKING)), 9),
            Local(countdown_s=9),
        ),
        "already_used": (
            _until(screens.already_claimed("c1", number="JHT A1-003"), 9),
            Local(countdown_s=9),
        ),
        "referred": (
            _until(screens.referred("c1", GateResult(Outcome.REFERRED, 2, 38.1)), 10),
            Local(countdown_s=10),
        ),
        "out_of_service": (
            screens.out_of_service("storage", screens.STORAGE_BROKEN),
            Local(),
        ),
        "camera_fault": (idle, Local(camera_down=True)),
        "staff_pin": (
            screens.out_of_service("storage", screens.STORAGE_BROKEN),
            Local(mode="staff", typed="12"),
        ),
        "inactivity": (idle, Local(mode="keypad", typed="7K3QX9M2", countdown_s=6)),
    }


def _until(screen: Screen, seconds: float) -> Screen:
    return screen.until(NOW + seconds)


def _wrong_day_extra() -> dict[str, str]:
    return {"checked_in_id": "", "checked_in_en": "", "earliest_id": "08.30", "earliest_en": "8:30"}
