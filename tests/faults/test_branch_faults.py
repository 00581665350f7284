"""A busy simulated hour at the branch while its processes are SIGKILLed at random points and
the line to head office is cut: nothing lost, nothing stored twice, no queue number handed out
twice, and every device back in service by itself."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from backoffice.config import BackofficeConfig
from branchsim.audit import (
    duplicate_ticket_numbers,
    keep_history,
    pending_now,
    stored_events,
    tally,
)
from branchsim.branch import BRANCH, branch_day_scenario, dropbox_setup, kiosk_setups
from branchsim.bridge import BridgedBrokers
from configkit import dump_toml
from uplink import SimulatedClock

ROOT = Path(__file__).resolve().parents[2]
WIB = timezone(timedelta(hours=7))
START = datetime(2026, 11, 30, 23, 20, tzinfo=WIB)  # a busy hour that crosses WIB midnight
SPEED = 60.0
KILLS_EACH = 2  # every kind of process is SIGKILLed this many times
DEADLINE_S = 90.0  # the bridge's own retry schedule (up to 30 s) sets the pace of recovery


def eventually(condition: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + DEADLINE_S
    pause = threading.Event()
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        pause.wait(0.2)


class Process:
    """A device or the receiver in a process of its own, restartable after a SIGKILL."""

    def __init__(self, name: str, argv: Callable[[], list[str]], log: Path) -> None:
        self.name, self._argv, self._log = name, argv, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self._log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, *self._argv()], cwd=ROOT, stdout=log, stderr=log
            )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@pytest.mark.faults
def test_a_busy_hour_survives_sigkills_of_every_process_and_a_partition(tmp_path: Path) -> None:
    rng = random.Random(20201130)
    brokers = BridgedBrokers(tmp_path / "brokers", BRANCH)
    brokers.start()
    clock = SimulatedClock(START, SPEED)
    kiosks = kiosk_setups(tmp_path, brokers.branch, clock, 2)
    box = dropbox_setup(tmp_path, brokers.branch)
    outboxes = {c.uplink.device_id: c.uplink.outbox_path for c in [*kiosks, box]}
    for device_id, path in outboxes.items():
        keep_history(path, device_id)
    store_path = tmp_path / "events.db"
    office = tmp_path / "backoffice.toml"
    office.write_text(
        dump_toml(
            BackofficeConfig(
                broker=brokers.central.client_config("backoffice"), database_path=store_path
            )
        )
    )
    log = tmp_path / "processes.log"

    def device(kind: str, config: Path, *extra: str) -> Callable[[], list[str]]:
        # A restarted device goes on at the simulation's current instant.
        return lambda: ["-m", "branchsim.device", kind, str(config), "--speed", str(SPEED),
                        "--start", clock.now().isoformat(), "--log", str(log), *extra]  # fmt: skip

    processes: list[Process] = [
        Process("receiver", lambda: ["-m", "backoffice", "receive", "--config", str(office)], log)
    ]
    for config in kiosks:
        path = tmp_path / f"{config.uplink.device_id}.toml"
        path.write_text(dump_toml(config))
        processes.append(Process(config.uplink.device_id, device("kiosk", path), log))
    box_path = tmp_path / "dropbox.toml"
    box_path.write_text(dump_toml(box))
    scenario = ("--scenario", str(branch_day_scenario()))
    processes.append(Process(box.uplink.device_id, device("dropbox", box_path, *scenario), log))
    for process in processes:
        process.start()
    try:
        # WHEN, at random points of the busy hour, one process after another is SIGKILLed and
        # restarted, each kind (kiosk, dropbox, receiver, either broker) twice in a random
        # order, and the line to head office is cut for a while in the middle of it
        pause = threading.Event()
        victims: list[str] = []
        by_name = {p.name: p for p in processes}
        kiosk_ids = [c.uplink.device_id for c in kiosks]
        kinds = ["kiosk", box.uplink.device_id, "receiver", "branch-broker", "central-broker"]
        schedule: list[str] = [*kinds * KILLS_EACH]
        rng.shuffle(schedule)
        schedule.insert(len(schedule) // 2, "line")
        for kind in schedule:
            pause.wait(rng.uniform(0.5, 2.5))
            if kind == "line":
                brokers.cut()
                pause.wait(4.0)
                brokers.restore()
                victims.append("line")
                continue
            choice = by_name.get(rng.choice(kiosk_ids) if kind == "kiosk" else kind, kind)
            if isinstance(choice, Process):
                choice.kill()
                choice.start()
                victims.append(choice.name)
            else:
                broker = brokers.branch if choice == "branch-broker" else brokers.central
                broker.kill()
                broker.start()
                victims.append(choice)

        # THEN every device delivers what it holds by itself
        eventually(lambda: pending_now(outboxes) == 0, f"every outbox drained after {victims}")
    finally:
        for process in reversed(processes):
            process.stop()
        brokers.stop()

    devices = tally(outboxes, store_path)
    events = stored_events(store_path)
    for device_id, day in devices.items():
        assert day.events_lost == 0, (device_id, victims)
        assert day.duplicates_stored == 0, (device_id, victims)
        assert day.events_recorded > 0, device_id
    assert duplicate_ticket_numbers(events, WIB) == 0, victims
    assert sum(d.tickets_issued for d in devices.values()) > 0
    assert sum(d.deposits for d in devices.values()) > 0
    # Every kind was killed as many times as planned (the schedule ran to its end).
    killed = ["kiosk" if v in kiosk_ids else v for v in victims]
    assert all(killed.count(kind) == KILLS_EACH for kind in kinds), victims
