"""Soak benchmark: a busy branch day, the line to head office down for a while, as fast as this
machine allows; then every event accounted for.

    python tests/bench/branch_day.py [--kiosks 3] [--speed 120] [--arrival-s 15] [--deposits 520]

Real parts as in `python -m branchsim`, each in its own process: the branch and central
mosquittos bridged with the fleet's config (the line cut from 40 % to 50 % of the day), the
back-office receiver (`backoffice receive`), the kiosks and the dropbox (`branchsim.device`).
The day is 07:30-16:00 WIB on 2026-11-30, played `--speed` times faster.

Measured:
- events_lost, duplicates_stored: each device's outbox history against the back office's store
  (`branchsim.audit`), after the devices have drained their outboxes.
- checkin_p95_ms: real time from a check-in decided (the PRINTING screen) to the ticket in the
  participant's hand (the TICKET screen): the outbox commit, rendering and printing the ticket,
  and the kiosk loop's 20 ms tick (read from each kiosk's screens.jsonl, simulated seconds / speed).
- peak_rss_mb per process (VmHWM from /proc at the end), sim_day_s: real seconds for the day.
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

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from backoffice.config import BackofficeConfig  # noqa: E402
from branchsim.audit import (  # noqa: E402
    duplicate_ticket_numbers,
    keep_history,
    pending_now,
    stored_events,
    summary_document,
    tally,
)
from branchsim.branch import BRANCH, DAY_LENGTH, dropbox_setup, kiosk_setups  # noqa: E402
from branchsim.bridge import BridgedBrokers  # noqa: E402
from configkit import dump_toml  # noqa: E402
from uplink import SimulatedClock  # noqa: E402

WIB = timezone(timedelta(hours=7))
START = datetime(2026, 11, 30, 7, 30, tzinfo=WIB)


def busy_scenario(deposits: int, day_s: float) -> str:
    every = day_s / (deposits + 1)
    return (
        'description = "benchmark: a busy day of deposits"\n'
        f"end_after_s = {day_s:.0f}\n"
        "[[steps]]\n"
        "at_s = 5\n"
        'action = "deposit"\n'
        f"count = {deposits}\n"
        f"every_s = {every:.1f}\n"
    )


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
    clock = SimulatedClock(START, args.speed)
    kiosks = kiosk_setups(work, brokers.branch, clock, args.kiosks, per_slot=30)
    box = dropbox_setup(work, brokers.branch)
    outboxes = {c.uplink.device_id: c.uplink.outbox_path for c in [*kiosks, box]}
    for device_id, path in outboxes.items():
        keep_history(path, device_id)
    store_path = work / "events.db"
    office = work / "backoffice.toml"
    central = brokers.central.client_config("backoffice")
    office.write_text(dump_toml(BackofficeConfig(broker=central, database_path=store_path)))
    scenario = work / "busy-day.toml"
    scenario.write_text(busy_scenario(args.deposits, day_s))
    log = work / "processes.log"
    clock = SimulatedClock(START, args.speed)  # the day starts now, with every process
    common = ["--speed", str(args.speed), "--start", START.isoformat(), "--log", str(log)]
    argvs: dict[str, list[str]] = {
        "receiver": ["-m", "backoffice", "receive", "--config", str(office)]
    }
    for config in kiosks:
        path = work / f"{config.uplink.device_id}.toml"
        path.write_text(dump_toml(config))
        pace = ["--arrival-s", str(args.arrival_s), "--walkin-every", "2"]
        argvs[config.uplink.device_id] = ["-m", "branchsim.device", "kiosk", str(path)]
        argvs[config.uplink.device_id] += [*common, *pace]
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
    while clock.elapsed_s() < day_s:
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
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
