"""The branch day's set pieces: who comes when, what breaks and mends, on the simulated clock.

Between the random arrivals, the day plays every case a branch meets (issue 9, item 4), each at
a fixed share of the played span, so a one-minute run sees them all as the whole day does:

- at the first kiosk: bookings on time, early, late, for another branch, for tomorrow, cancelled, a
  collective (employer) booking with its party, the on-time booking's screenshot shown again;
  a walk-in for each programme; a high temperature that rests and passes; a fever referral;
  the printer out of paper and refilled; the office full, with arrivals told to wait outside.
- at the dropbox: deposits with contact chatter, a booking scanned, a wrong PIN, a collection
  counted right, the UV-C cycle after it, the receipt printer out of paper and refilled, a
  tamper alarm, and a second collection whose count does not match.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from backoffice.bookings.issuer import Issuer, cancellations_document
from backoffice.bookings.qr import write_qr_png
from configkit import dump_toml
from dropbox_agent.sim.scenario import Scenario
from kiosk.booking import Service
from kiosk.sim.driver import Visit

if TYPE_CHECKING:
    from kiosk.sim.runner import SimulatedKiosk

logger = logging.getLogger(__name__)

OTHER_BRANCH = "bandung-suci"
HOUR = timedelta(hours=1)
PARTY_SIZE = 12
OFFICER_PIN = "2468"  # dropbox_agent/examples/dropbox.toml's
# Most simulated seconds between an officer's steps at the box: the PIN's window is 120 s, and at
# x120 a step is still half a real second (the box's debounce and a loaded machine need it).
COLLECTION_STEP_S = 60.0

# What a case is called in the summary's `day_cases`, and the refusal reason it must produce.
BOOKING_CASES: dict[str, str | None] = {
    "booking_on_time": None,
    "booking_early": "too_early",
    "booking_late": "too_late",
    "booking_wrong_branch": "wrong_branch",
    "booking_wrong_day": "wrong_day",
    "booking_cancelled": "cancelled",
    "booking_replayed": "already_checked_in",
    "booking_collective": None,
}

WAITS_OUTSIDE = "walkin_JKM"  # the visit that comes while the office is full

Act = Literal["paper_out", "paper_refilled", "office_full", "office_eases"]


@dataclass(frozen=True)
class Happening:
    """Something the branch does to its kiosks or itself at `at` (not a participant)."""

    at: datetime
    act: Act


@dataclass(frozen=True)
class DayScript:
    """The first kiosk's scripted visits and the branch's happenings, in time order."""

    visits: list[Visit]
    happenings: list[Happening]


# What the day's script makes happen, as the summary counts it: the refusals (`checkins_refused`)
# and the cases (`day_cases`) one played day must show (a run's summary is checked against them).
SCRIPTED_REFUSALS = tuple(sorted({r for r in BOOKING_CASES.values() if r is not None}))
SCRIPTED_CASES = (
    "walkin_JHT", "walkin_JKK", "walkin_JKM", "walkin_JP", "party_checked_in",
    "rested_and_passed", "fever_referral", "told_to_wait_outside", "paper_out",
    "paper_refilled", "wrong_pin", "tamper_alarm", "uv_cycle",
)  # fmt: skip
PRINTER_ACTS: frozenset[Act] = frozenset({"paper_out", "paper_refilled"})
OFFICE_ACTS: frozenset[Act] = frozenset({"office_full", "office_eases"})


SCRIPTED_COLLECTIONS = ("confirmed", "mismatch")


def missing_cases(total: dict[str, Any]) -> list[str]:
    """The scripted refusals, cases and collections a summary's `total` lacks (empty: the day
    was played)."""
    refused, cases = total.get("checkins_refused", {}), total.get("day_cases", {})
    collections = total.get("collections", {})
    return (
        [r for r in SCRIPTED_REFUSALS if not refused.get(r)]
        + [c for c in SCRIPTED_CASES if not cases.get(c)]
        + [f"collection_{c}" for c in SCRIPTED_COLLECTIONS if not collections.get(c)]
    )


class ScriptPlayer:
    """Says which of the script's happenings are due, in order, each once.

    A refill waits until the first kiosk says it is out of paper, and the office eases once
    someone was told to wait outside (each a tenth of the span at most); without the kiosk's
    parts at hand (another process) each comes at its time.

    Args:
        happenings: the script's, in time order.
        span: the played span (the waits are shares of it).
        acts: the acts this player does (a device process the printer's, the branch the office's).
    """

    def __init__(
        self, happenings: list[Happening], span: timedelta, acts: frozenset[Act] | None = None
    ) -> None:
        self._pending = [h for h in happenings if acts is None or h.act in acts]
        self.span = span

    def due(self, now: datetime, parts: SimulatedKiosk | None = None) -> list[Act]:
        """The acts due at `now`, oldest first; each is returned once."""
        acts: list[Act] = []
        while self._pending and self._pending[0].at <= now:
            happening = self._pending[0]
            if (
                happening.act == "paper_refilled"
                and parts is not None
                and parts.kiosk.engine.faults.get("printer") != "paper_out"
                and now < happening.at + self.span * 0.1
            ):
                break  # the officer refills once the kiosk says so (a little later at most)
            if (
                happening.act == "office_eases"
                and parts is not None
                and not waited_outside(parts, now - self.span * 0.04)
                and now < happening.at + self.span * 0.1
            ):
                break  # the office eases once someone was told to wait outside (or a bit later)
            acts.append(self._pending.pop(0).act)
        return acts


def waited_outside(parts: SimulatedKiosk, by: datetime) -> bool:
    """The script's arrival for a full office came by `by` (time enough to be ticketed)."""
    return any(v.label == WAITS_OUTSIDE and at <= by for at, v in parts.participants.visited)


def write_script(script: DayScript, path: Path) -> Path:
    """Write `script` as JSON at `path` (for a kiosk in a process of its own); returns `path`."""
    document = {
        "visits": [
            {"at": v.at.isoformat(), "label": v.label,
             "image": None if v.image is None else str(v.image), "service": v.service,
             "temperatures_c": list(v.temperatures_c)}
            for v in script.visits
        ],
        "happenings": [{"at": h.at.isoformat(), "act": h.act} for h in script.happenings],
    }  # fmt: skip
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return path


def read_script(path: Path) -> DayScript:
    """The script `write_script` wrote at `path`.

    Raises:
        OSError, ValueError, KeyError: not such a file.
    """
    document = json.loads(path.read_text(encoding="utf-8"))
    visits = [
        Visit(datetime.fromisoformat(v["at"]), str(v["label"]),
              image=None if v["image"] is None else Path(v["image"]), service=v["service"],
              temperatures_c=tuple(float(t) for t in v["temperatures_c"]))
        for v in document["visits"]
    ]  # fmt: skip
    acts = {"paper_out", "paper_refilled", "office_full", "office_eases"}
    happenings = [
        Happening(datetime.fromisoformat(h["at"]), h["act"])
        for h in document["happenings"]
        if h["act"] in acts
    ]
    return DayScript(visits, happenings)


def played_span(duration_s: float | None, speed: float, day_length: timedelta) -> timedelta:
    """The simulated time a run plays: `duration_s` real seconds at `speed`, or a whole day."""
    if duration_s is None:
        return day_length
    return min(day_length, timedelta(seconds=duration_s * speed))


def _hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def kiosk_day(
    directory: Path,
    issuer: Issuer,
    branch: str,
    zone: ZoneInfo,
    start: datetime,
    span: timedelta,
    cache_dirs: list[Path],
) -> DayScript:
    """Issue the scripted bookings (QR photos under `directory`), cancel one (its cancellation
    written into each kiosk's `cache_dirs`, as a kiosk synced earlier holds it), and return the
    visits and happenings at their shares of `span` after `start`. Writes `bookings.json` (which
    booking id plays which case) beside the photos."""
    directory.mkdir(parents=True, exist_ok=True)

    def at(share: float) -> datetime:
        return (start + span * share).astimezone(zone)

    ids: dict[str, str] = {}

    def booking(case: str, share: float, **how: Any) -> Visit:
        when = at(share)
        slot = how.pop("slot", _hour_of(when))
        issued = issuer.issue(
            branch=how.pop("branch", branch),
            service="JHT",
            day=slot.date(),
            start=slot.time(),
            end=(slot + HOUR).time(),
            name="Sri Lestari",
            **how,
        )
        ids[case] = issued.booking.booking_id
        image = write_qr_png(issued.token, directory / f"{case}.png", scale=4)
        return Visit(when, case, image=image)

    on_time = booking("booking_on_time", 0.04)
    cancelled = booking("booking_cancelled", 0.20)
    issuer.cancel(ids["booking_cancelled"])
    document = cancellations_document(issuer.store, branch, start.date() - timedelta(days=1), 3)
    for cache in cache_dirs:
        cache.mkdir(parents=True, exist_ok=True)
        (cache / "cancellations.json").write_bytes(document)
    visits = [
        on_time,
        booking("booking_early", 0.08, slot=_hour_of(at(0.08)) + 2 * HOUR),
        walkin("walkin_JKK", at(0.11), "JKK"),
        # The office is full before the line to head office is cut: the occupancy comes from there.
        walkin(WAITS_OUTSIDE, at(0.14), "JKM"),
        booking("booking_late", 0.16, slot=_hour_of(at(0.16)) - 2 * HOUR),
        cancelled,
        booking("booking_wrong_branch", 0.24, branch=OTHER_BRANCH),
        walkin("high_temperature_rested", at(0.28), "JHT", (38.1, 36.8)),
        walkin("walkin_JP", at(0.32), "JP"),  # while the printer is out of paper
        booking("booking_wrong_day", 0.40, slot=_hour_of(at(0.40)) + 24 * HOUR),
        walkin("fever_referral", at(0.44), "JHT", (38.4, 38.3)),
        Visit(at(0.50), "booking_replayed", image=on_time.image),
        booking("booking_collective", 0.56, channel="collective", party_size=PARTY_SIZE),
        walkin("walkin_JHT", at(0.66), "JHT"),
    ]
    happenings = [
        Happening(at(0.10), "office_full"),
        Happening(at(0.22), "office_eases"),
        Happening(at(0.30), "paper_out"),
        Happening(at(0.37), "paper_refilled"),
    ]
    # Which booking plays which case, for whoever reads the day afterwards (and the tests).
    (directory / "bookings.json").write_text(json.dumps(ids, indent=1) + "\n", encoding="utf-8")
    return DayScript(sorted(visits, key=lambda v: v.at), happenings)


def walkin(
    label: str, when: datetime, service: Service, temperatures_c: tuple[float, ...] = (36.6,)
) -> Visit:
    """A walk-in choosing `service`."""
    return Visit(when, label, service=service, temperatures_c=temperatures_c)


def dropbox_day(path: Path, span: timedelta) -> Path:
    """Write the dropbox's scripted day as a scenario file at `path`, its steps at shares of
    `span` (simulated seconds from the start); returns `path`."""
    s = span.total_seconds()
    every = max(1.0, 0.01 * s)
    # An officer's steps follow each other within the box's windows (PIN to door: 120 s by
    # default), whatever the span: a whole day's 1 % would be 5 minutes.
    step = min(every, COLLECTION_STEP_S)
    steps: list[dict[str, Any]] = [
        {"at_s": 0.02 * s, "action": "deposit"},
        {"at_s": 0.05 * s, "action": "keypad", "text": "BK-7QX2M9"},  # a booking scanned
        {"at_s": 0.06 * s, "action": "deposit", "count": 3, "every_s": every},
        {"at_s": 0.12 * s, "action": "keypad", "text": "1111"},  # a wrong PIN
        {"at_s": 0.15 * s, "action": "fill", "distance_cm": 20},
        {"at_s": 0.17 * s, "action": "deposit"},
        # The first collection: 5 deposits logged, the officer counts 5.
        {"at_s": 0.20 * s, "action": "keypad", "text": OFFICER_PIN},
        {"at_s": 0.20 * s + step, "action": "door", "open": True},
        {"at_s": 0.20 * s + 3 * step, "action": "keypad", "text": "*5#"},
        {"at_s": 0.20 * s + 5 * step, "action": "door", "open": False},  # UV-C runs after it
        {"at_s": 0.26 * s, "action": "fill", "distance_cm": 56},
        {"at_s": 0.30 * s, "action": "printer", "fault": "paper_out"},
        {"at_s": 0.33 * s, "action": "deposit"},  # counted; its slip cannot print
        {"at_s": 0.38 * s, "action": "printer", "fault": "none"},  # refilled
        {"at_s": 0.42 * s, "action": "tamper", "active": True},
        {"at_s": 0.43 * s, "action": "tamper", "active": False},
        {"at_s": 0.46 * s, "action": "deposit", "count": 2, "every_s": every},
        # The second collection: 3 deposits logged, the officer counts 4.
        {"at_s": 0.58 * s, "action": "keypad", "text": OFFICER_PIN},
        {"at_s": 0.58 * s + step, "action": "door", "open": True},
        {"at_s": 0.58 * s + 3 * step, "action": "keypad", "text": "*4#"},
        {"at_s": 0.58 * s + 5 * step, "action": "door", "open": False},
        {"at_s": 0.70 * s, "action": "deposit"},
    ]
    document = {
        "description": "The branch's dropbox day (branchsim.script)",
        "end_after_s": 1.0,
        "seed": 20200622,
        "steps": [{k: round(v, 3) if isinstance(v, float) else v for k, v in step.items()}
                  for step in steps],
    }  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_toml(Scenario.model_validate(document)), encoding="utf-8")
    return path


def uv_cycle_s(span: timedelta) -> float:
    """A UV-C cycle that ends well within the played span (600 s on a whole day)."""
    return min(600.0, 0.08 * span.total_seconds())
