"""End to end with a real mosquitto and back-office receiver: no deposit lost, none doubled."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

from backoffice.receiver import Receiver
from branchsim.broker import LocalBroker
from configkit import dump_toml
from dropbox_agent import app
from dropbox_agent.adapters.box_store import SqliteBoxStore
from dropbox_agent.config import DropboxConfig
from dropbox_agent.domain.model import Input
from dropbox_agent.inputs import COUNT_COMMAND
from dropbox_agent.sim.box import SimulatedBox
from tests.dropbox_agent.conftest import config_data
from uplink import ManualClock, topics

ROOT = Path(__file__).resolve().parents[2]
BEAM_SETTLE_S = 0.005


def _config(tmp_path: Path, broker: LocalBroker, device_id: str) -> DropboxConfig:
    data = config_data(tmp_path, broker.client_config(device_id).model_dump())
    data["box_id"] = device_id
    data["uplink"]["device_id"] = device_id
    data["fill"] = {"enabled": False}
    data["printer"] = {"enabled": False}
    # configkit.dump_toml cannot write arrays of tables yet: the key switch authorizes here.
    data["collection"] = {}
    return DropboxConfig.model_validate(data)


def _deposits(backoffice: Receiver, device_id: str) -> list[int]:
    rows = backoffice.store.events_after(0, 1_000_000, "dropbox.deposit")  # type: ignore[attr-defined]
    return sorted(r.payload["deposit_no"] for r in rows if r.device_id == device_id)


def _wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Wait for a condition that another process makes true (checked every 20 ms)."""
    tick = threading.Event()
    for _ in range(int(timeout_s / 0.02)):
        if condition():
            return
        tick.wait(0.02)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def test_a_thousand_chattering_deposits_arrive_exactly_once(
    backoffice: Receiver, broker: LocalBroker, tmp_path: Path
) -> None:
    """GIVEN a box on MockFactory pins with a real uplink
    WHEN 1,000 envelopes pass with random bounce trains (gaps shorter than the debounce)
    THEN the back office stores exactly 1,000 deposit events, numbered 1..1000."""
    config = _config(tmp_path, broker, "dropbox-e2e")
    clock = ManualClock()
    rng = random.Random(1000)
    box = SimulatedBox(config.pins, config.polarity, clock)
    agent = app.build(config, clock=clock, box=box)
    agent.start()

    def bounce_to(active: bool) -> None:
        for _ in range(rng.randint(0, 8)):
            box.drive(Input.BEAM, active)
            clock.advance(rng.uniform(1e-5, BEAM_SETTLE_S * 0.9))
            box.drive(Input.BEAM, not active)
            clock.advance(rng.uniform(1e-5, BEAM_SETTLE_S * 0.9))
        box.drive(Input.BEAM, active)

    try:
        for _ in range(1000):
            bounce_to(True)
            clock.advance(rng.uniform(0.006, 0.4))
            bounce_to(False)
            clock.advance(rng.uniform(0.006, 0.4))
            agent.pump(0)
        assert agent.uplink is not None
        assert agent.uplink.wait_drained(60), "the back office did not ack every deposit"
        assert _deposits(backoffice, "dropbox-e2e") == list(range(1, 1001))
    finally:
        agent.close()


BURST = """
end_after_s = 60
seed = 9
[[steps]]
at_s = 0.2
action = "deposit"
count = 3000
every_s = 0.015
hold_ms = 10
"""

AFTER = """
end_after_s = 120
[[steps]]
at_s = 0.5
action = "deposit"
count = 3
every_s = 0.05
"""


@pytest.fixture
def agent_process(tmp_path: Path) -> Iterator[Callable[[Path, Path], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    logs: list[IO[bytes]] = []

    def start(config_file: Path, scenario: Path) -> subprocess.Popen[bytes]:
        logs.append((tmp_path / f"agent-{len(started)}.log").open("wb"))
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dropbox_agent",
                "simulate",
                "--config",
                str(config_file),
                "--scenario",
                str(scenario),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=logs[-1],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(10)
    for log in logs:
        log.close()


def test_sigkill_during_a_burst_loses_nothing_after_restart(
    backoffice: Receiver,
    broker: LocalBroker,
    tmp_path: Path,
    agent_process: Callable[[Path, Path], subprocess.Popen[bytes]],
) -> None:
    """GIVEN the agent as its own process, depositing a burst through its simulated pins
    WHEN it is killed with SIGKILL mid-burst and started again
    THEN every deposit it had recorded reaches the back office, numbered 1..N without gaps or
    duplicates, and the numbering continues after the restart."""
    config = _config(tmp_path, broker, "dropbox-kill")
    config_file = tmp_path / "dropbox.toml"
    config_file.write_text(dump_toml(config))
    (tmp_path / "burst.toml").write_text(BURST)
    (tmp_path / "after.toml").write_text(AFTER)

    first = agent_process(config_file, tmp_path / "burst.toml")
    _wait_for(lambda: len(_deposits(backoffice, "dropbox-kill")) >= 100, 60, "100 deposits")
    first.send_signal(signal.SIGKILL)
    first.wait(10)

    with sqlite3.connect(config.uplink.outbox_path) as outbox:
        unacked = {
            r[0]
            for r in outbox.execute("SELECT event_id FROM outbox WHERE type = 'dropbox.deposit'")
        }
    recorded = unacked | set(backoffice.store.event_ids("dropbox.deposit"))  # type: ignore[attr-defined]
    assert 100 <= len(recorded) < 3000, "the kill did not land mid-burst"

    second = agent_process(config_file, tmp_path / "after.toml")
    _wait_for(
        lambda: len(_deposits(backoffice, "dropbox-kill")) >= len(recorded) + 3,
        60,
        "the backlog and 3 new deposits",
    )
    second.send_signal(signal.SIGTERM)
    assert second.wait(30) == 0

    stored = set(backoffice.store.event_ids("dropbox.deposit"))  # type: ignore[attr-defined]
    assert recorded <= stored, f"{len(recorded - stored)} recorded deposits never arrived"
    numbers = _deposits(backoffice, "dropbox-kill")
    assert numbers == list(range(1, len(recorded) + 4))
    store = SqliteBoxStore(config.local_db_path, boot_id="check")
    counters = store.load_counters()
    store.close()
    assert counters is not None and counters.last_deposit_no == len(recorded) + 3


def test_the_back_office_can_confirm_a_count_for_a_box_without_keypad(
    backoffice: Receiver, broker: LocalBroker, tmp_path: Path
) -> None:
    """GIVEN a key-switch box (no keypad) whose collection awaits its count
    WHEN the back office sends the count as a command
    THEN the box records the confirmation for that collection."""
    config = _config(tmp_path, broker, "dropbox-cmd")
    clock = ManualClock()
    box = SimulatedBox(config.pins, config.polarity, clock)
    agent = app.build(config, clock=clock, box=box)
    done = threading.Event()
    agent.add_record_listener(
        lambda record, _env: done.set() if record.type == "dropbox.collection_confirmed" else None
    )
    agent.start()
    try:
        for name, active in ((Input.BEAM, True), (Input.BEAM, False), (Input.KEY, True)):
            box.drive(name, active)
            clock.advance(0.2)
            agent.pump(0)
        box.drive(Input.DOOR, True)
        clock.advance(0.2)
        agent.pump(0)
        box.drive(Input.DOOR, False)
        clock.advance(0.2)
        agent.pump(0)
        assert agent.uplink is not None
        _wait_for(lambda: agent.uplink is not None and agent.uplink.connected, 10, "connection")
        topic = topics.command("dropbox-cmd", COUNT_COMMAND)
        backoffice.publish_retained(topic, b'{"collection_id": "dropbox-cmd-c1", "counted": 1}')
        for _ in range(50):  # up to 10 s for the command to come back through the broker
            if done.is_set():
                break
            agent.pump(0.2)
        assert done.is_set(), "the back office's count was not applied"
        backoffice.publish_retained(topic, b"")  # clear the retained command
    finally:
        agent.close()


def test_collection_count_waits_for_the_box_to_answer(
    backoffice: Receiver,
    broker: LocalBroker,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GIVEN a key-switch box whose collection c1 awaits its count, its loop running
    WHEN the officer sends counts with `backoffice collection-count`
    THEN the command prints the box's answer: unknown collection, taken (confirmed), already
    counted; and for a box that never answers, a clear line and exit code 3 after the timeout."""
    from backoffice.__main__ import main as backoffice_main
    from backoffice.config import BackofficeConfig

    config = _config(tmp_path, broker, "dropbox-ask")
    clock = ManualClock()
    box = SimulatedBox(config.pins, config.polarity, clock)
    agent = app.build(config, clock=clock, box=box)
    agent.start()
    stop = threading.Event()
    loop = threading.Thread(target=lambda: [agent.pump(0.05) for _ in iter(stop.is_set, True)])
    office = tmp_path / "backoffice.toml"
    office.write_text(
        dump_toml(
            BackofficeConfig(
                broker=broker.client_config("backoffice"), database_path=tmp_path / "o.db"
            )
        ),
        encoding="utf-8",
    )

    def count(
        collection_id: str, counted: int, device: str = "dropbox-ask", wait_s: str = "15"
    ) -> tuple[int, str]:
        argv = ["collection-count", "--config", str(office), "--device", device]
        argv += ["--collection", collection_id, "--counted", str(counted), "--timeout-s", wait_s]
        code = backoffice_main(argv)
        return code, capsys.readouterr().out

    try:
        for name, active in ((Input.BEAM, True), (Input.BEAM, False), (Input.KEY, True)):
            box.drive(name, active)
            clock.advance(0.2)
            agent.pump(0)
        for door in (True, False):
            box.drive(Input.DOOR, door)
            clock.advance(0.2)
            agent.pump(0)
        _wait_for(lambda: agent.uplink is not None and agent.uplink.connected, 10, "connection")
        loop.start()
        code, out = count("dropbox-ask-c9", 1)
        assert code == 1 and "the box has no such collection" in out, out
        code, out = count("dropbox-ask-c1", 1)
        assert code == 0 and "confirmed" in out, out
        code, out = count("dropbox-ask-c1", 1)
        assert code == 1 and "counted already" in out, out
        code, out = count("dropbox-ask-c1", 1, device="dropbox-gone", wait_s="0.3")
        assert code == 3 and "did not answer within 0.3 s" in out and "queued" in out, out
    finally:
        stop.set()
        if loop.is_alive():
            loop.join(5)
        agent.close()
