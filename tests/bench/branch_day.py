"""Soak benchmark: a busy branch day with every scripted case, the line to head office down for
a while, as fast as this machine allows; then every event accounted for.

    python tests/bench/branch_day.py [--kiosks 3] [--speed 120] [--arrival-s 15] [--deposits 520]

Real parts as in `python -m branchsim`, each in its own process: the branch and central
mosquittos bridged with the fleet's config (the line cut from 40 % to 50 % of the day), the
back-office receiver (`backoffice receive`), the kiosks and the dropbox (`branchsim.device`).
The day is 07:30-16:00 WIB on 2026-11-30, played `--speed` times faster.

The day's script (`branchsim.script`, as `python -m branchsim` plays it) runs through it: the
first kiosk's scripted visits and paper out (`branchsim.device --script`), the office full and
easing (the occupancy published here, as the back office does), and the dropbox's scripted day
(PIN, tamper, UV-C, a confirmed and a mismatched collection) with the busy load of `--deposits`
after its second collection (so the officers' counts stay the script's).

Measured:
- events_lost, duplicates_stored: each device's outbox history against the back office's store
  (`branchsim.audit`), after the devices have drained their outboxes.
- checkin_p95_ms: real time from a check-in decided (the PRINTING screen) to the ticket in the
  participant's hand (the TICKET screen): the outbox commit, rendering and printing the ticket,
  and the kiosk loop's 20 ms tick (read from each kiosk's screens.jsonl, simulated seconds / speed).
- peak_rss_mb per process (VmHWM from /proc at the end), sim_day_s: real seconds for the day.
- day_cases, checkins_refused, collections as the summary counts them; cases_missing: the
  scripted cases and refusals the day did not show (empty: the whole script was played).
Floor printed in the same run: sim_day_s can be no less than the day's length / speed.

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from backoffice.bookings.issuer import Issuer  # noqa: E402
from backoffice.config import BackofficeConfig  # noqa: E402
from backoffice.occupancy import occupancy_message  # noqa: E402
from backoffice.publish import publish_once  # noqa: E402
from branchsim.audit import (  # noqa: E402
    duplicate_ticket_numbers,
    keep_history,
    pending_now,
    stored_events,
    summary_document,
    tally,
)
from branchsim.branch import (  # noqa: E402
    BRANCH,
    DAY_LENGTH,
    TIMEZONE,
    ServiceCounters,
    dropbox_setup,
    kiosk_setups,
)
from branchsim.bridge import BridgedBrokers  # noqa: E402
from branchsim.script import (  # noqa: E402
    OFFICE_ACTS,
    DayScript,
    ScriptPlayer,
    dropbox_day,
    kiosk_day,
    missing_cases,
    uv_cycle_s,
    write_script,
)
from configkit import dump_toml, load  # noqa: E402
from dropbox_agent.sim.scenario import Scenario  # noqa: E402
from uplink import ManualClock, SimulatedClock, topics  # noqa: E402

WIB = timezone(timedelta(hours=7))
START = datetime(2026, 11, 30, 7, 30, tzinfo=WIB)


BUSY_FROM, BUSY_TO = 0.72, 0.95  # shares of the day: after the script's last step (0.70)
OCCUPANCY_EVERY_S = 300.0  # simulated s between occupancy messages while full (kiosks: 600 s)


def busy_scenario(path: Path, deposits: int, day_s: float) -> Path:
    """The dropbox's scripted day (`branchsim.script.dropbox_day`) with `deposits` more spread
    over the end of the day, written at `path`."""
    scripted = load(Scenario, dropbox_day(path, DAY_LENGTH))
    busy = {
        "at_s": round(BUSY_FROM * day_s, 3),
        "action": "deposit",
        "count": deposits,
        "every_s": round((BUSY_TO - BUSY_FROM) * day_s / max(1, deposits), 3),
    }
    document = scripted.model_dump(mode="json", exclude_none=True)
    document["description"] = "benchmark: the branch's scripted day, then a busy afternoon"
    document["steps"] = sorted([*document["steps"], busy], key=lambda step: step["at_s"])
    path.write_text(dump_toml(Scenario.model_validate(document)), encoding="utf-8")
    return path


class Office:
    """The office's happenings of the script, played here: full (and kept fresh) or easing, as
    the back office's retained occupancy for the branch's kiosks."""

    def __init__(self, script: DayScript, office: Path, clock: SimulatedClock) -> None:
        from backoffice.config import BackofficeConfig as Config

        self.player = ScriptPlayer(script.happenings, DAY_LENGTH, OFFICE_ACTS)
        self.config = load(Config, office)
        self.clock = clock
        self.capacity = ServiceCounters().capacity
        self.inside: int | None = None
        self.sent_at = -OCCUPANCY_EVERY_S

    def tick(self) -> None:
        for act in self.player.due(self.clock.now()):
            self.inside = self.capacity if act == "office_full" else 0
            self.publish()
        if self.inside and self.clock.elapsed_s() - self.sent_at >= OCCUPANCY_EVERY_S:
            self.publish()  # a full office's figures stay fresh for the kiosks

    def publish(self) -> None:
        if self.inside is None:
            return
        body = occupancy_message(self.inside, self.capacity, at=self.clock.now())
        problem = publish_once(self.config, topics.occupancy(BRANCH), body, retain=True)
        if problem:
            print(f"occupancy not published: {problem}", file=sys.stderr)
        self.sent_at = self.clock.elapsed_s()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def checkin_ms(screens: Path, speed: float) -> list[float]:
    """Real ms from each PRINTING screen to the TICKET screen that follows it."""
    out: list[float] = []
    printing: datetime | None = None
    for line in screens.read_text(encoding="utf-8").splitlines():
        screen = json.loads(line)
        at = datetime.fromisoformat(screen["at"])
        if screen["phase"] == "printing":
            printing = at
        elif screen["phase"] == "ticket" and printing is not None:
            out.append((at - printing).total_seconds() / speed * 1000)
            printing = None
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiosks", type=int, default=3)
    parser.add_argument("--speed", type=float, default=120.0)
    parser.add_argument("--arrival-s", type=float, default=15.0)
    parser.add_argument("--deposits", type=int, default=520)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lapak-branch-day-"))
    day_s = DAY_LENGTH.total_seconds()
    brokers = BridgedBrokers(work / "brokers", BRANCH)
    brokers.start()
    # Bookings issued at the day's start, as the devices (started later) begin it: a clock that
    # ran on during the set-up would issue them in the kiosks' future ("not yet valid").
    clock = ManualClock(START)
    scripts: list[DayScript] = []

    def script(issuer: Issuer, cache_dirs: list[Path]) -> None:
        scripts.append(
            kiosk_day(work / "script", issuer, BRANCH, ZoneInfo(TIMEZONE), START, DAY_LENGTH,
                      cache_dirs)
        )  # fmt: skip

    kiosks = kiosk_setups(work, brokers.branch, clock, args.kiosks, per_slot=30, script=script)
    [day] = scripts
    day_file = write_script(day, work / "script" / "day.json")
    box = dropbox_setup(work, brokers.branch)
    box = box.model_copy(
        update={"uv": box.uv.model_copy(update={"cycle_s": uv_cycle_s(DAY_LENGTH)})}
    )
    outboxes = {c.uplink.device_id: c.uplink.outbox_path for c in [*kiosks, box]}
    for device_id, path in outboxes.items():
        keep_history(path, device_id)
    store_path = work / "events.db"
    office = work / "backoffice.toml"
    central = brokers.central.client_config("backoffice")
    office.write_text(dump_toml(BackofficeConfig(broker=central, database_path=store_path)))
    scenario = busy_scenario(work / "script" / "busy-day.toml", args.deposits, day_s)
    log = work / "processes.log"
    clock = SimulatedClock(START, args.speed)  # the day starts now, with every process
    common = ["--speed", str(args.speed), "--start", START.isoformat(), "--log", str(log)]
    argvs: dict[str, list[str]] = {
        "receiver": ["-m", "backoffice", "receive", "--config", str(office)]
    }
    for n, config in enumerate(kiosks):
        path = work / f"{config.uplink.device_id}.toml"
        path.write_text(dump_toml(config))
        pace = ["--arrival-s", str(args.arrival_s), "--walkin-every", "2"]
        played = ["--script", str(day_file), "--span-s", str(day_s)] if n == 0 else []
        argvs[config.uplink.device_id] = ["-m", "branchsim.device", "kiosk", str(path)]
        argvs[config.uplink.device_id] += [*common, *pace, *played]
    box_path = work / "dropbox.toml"
    box_path.write_text(dump_toml(box))
    argvs[box.uplink.device_id] = ["-m", "branchsim.device", "dropbox", str(box_path), *common,
                          "--scenario", str(scenario)]  # fmt: skip
    began = time.monotonic()
    with log.open("ab") as sink:
        processes = {
            name: subprocess.Popen([sys.executable, *argv], cwd=ROOT, stdout=sink, stderr=sink)
            for name, argv in argvs.items()
        }
    pause = threading.Event()
    cut_at, restore_at = 0.40 * day_s, 0.50 * day_s
    state = "up"
    office_day = Office(day, office, clock)
    while clock.elapsed_s() < day_s:
        office_day.tick()
        if state == "up" and clock.elapsed_s() >= cut_at:
            brokers.cut()
            state = "down"
        elif state == "down" and clock.elapsed_s() >= restore_at:
            brokers.restore()
            state = "restored"
        pause.wait(0.2)
    sim_day_s = time.monotonic() - began
    drained: Callable[[], bool] = lambda: pending_now(outboxes) == 0  # noqa: E731
    deadline = time.monotonic() + 120
    while not drained() and time.monotonic() < deadline:
        pause.wait(0.5)
    rss = {name: peak_rss_mb(p.pid) for name, p in processes.items()}
    for side, broker in (("branch-broker", brokers.branch), ("central-broker", brokers.central)):
        process = broker._process
        if process is not None:
            rss[side] = peak_rss_mb(process.pid)
    for process in processes.values():
        process.send_signal(signal.SIGTERM)
    for process in processes.values():
        process.wait(30)
    brokers.stop()
    devices = tally(outboxes, store_path)
    summary = summary_document(devices, store_path, WIB)
    total = summary["total"]
    latencies = [ms for c in kiosks
                 for ms in checkin_ms(c.uplink.outbox_path.parent / "tickets" / "screens.jsonl",
                                      args.speed)]  # fmt: skip
    p95 = statistics.quantiles(latencies, n=20)[18] if len(latencies) >= 20 else max(latencies)
    floor_s = day_s / args.speed
    print(f"work folder: {work}")
    print(f"floor: a day of {day_s:.0f} s at x{args.speed:g} takes at least {floor_s:.1f} s")
    twice = duplicate_ticket_numbers(stored_events(store_path), WIB)
    refused = sum(total["checkins_refused"].values())
    print(f"check-ins {total['checkins_accepted']}, deposits {total['deposits']}, ")
    print(f"refused {refused}, duplicate ticket numbers {twice}")
    result = {
        "events_lost": total["events_lost"],
        "duplicates_stored": total["duplicates_stored"],
        "checkin_p95_ms": round(p95, 1),
        "peak_rss_mb": rss,
        "sim_day_s": round(sim_day_s, 1),
        "sim_day_floor_s": round(floor_s, 1),
        "checkins": total["checkins_accepted"],
        "deposits": total["deposits"],
        "events_recorded": total["events_recorded"],
        "events_pending": total["events_pending"],
        "speed": args.speed,
        "kiosks": args.kiosks,
        "day_cases": total["day_cases"],
        "checkins_refused": total["checkins_refused"],
        "collections": total["collections"],
        "cases_missing": missing_cases(total),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
