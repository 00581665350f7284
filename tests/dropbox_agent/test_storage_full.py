"""No slip or beep without a stored event: a full outbox (cap or disk) is said out loud, the
box keeps counting, and what it counted is stored, in order, once there is room again."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backoffice.receiver import Receiver
from branchsim.broker import LocalBroker
from dropbox_agent import agent as runtime
from dropbox_agent import app, held
from dropbox_agent.agent import DropboxAgent
from dropbox_agent.config import DropboxConfig
from dropbox_agent.domain.counters import reconcile_counters
from dropbox_agent.domain.model import BoxCounters, Input, Output
from dropbox_agent.errors import SetupError
from dropbox_agent.sim.box import SimulatedBox
from dropbox_agent.sim.devices import SimulatedFillSensor, SimulatedKeypad, SimulatedPrinter
from tests.diskfull import small_disk
from tests.dropbox_agent.conftest import Rig, config_data, make_config, make_rig
from uplink import ManualClock, Outbox, OutboxFull
from uplink.sink import EventLog

DEPOSIT = {
    "box_id": "dropbox-t",
    "deposit_no": 4,
    "code": "K7QX-2M9A",
    "blocked_ms": 200,
    "pending_collection": 2,
}


def full_outbox() -> EventLog:
    """The shipped fake, refusing every event as a full outbox does until `fail_with(None)`."""
    events = EventLog()
    events.fail_with(OutboxFull("no room"))
    return events


def stored_payloads(outbox: Outbox, type_name: str) -> list[dict[str, Any]]:
    """The payloads of `type_name` events the outbox holds, oldest first."""
    bodies = [json.loads(r.body) for r in outbox.after(0, 100_000)]
    return [b["payload"] for b in bodies if b["type"] == type_name]


def record_pulses(rig: Rig) -> list[tuple[Output, float]]:
    pulses: list[tuple[Output, float]] = []
    rig.agent.box.pulse = lambda output, seconds: pulses.append((output, seconds))  # type: ignore[method-assign]
    return pulses


def settle_slips(rig: Rig) -> None:
    rig.agent.close()  # joins the printer thread: every queued slip is printed


def test_deposits_while_full_get_no_slip_an_error_tone_and_are_stored_when_room_returns(
    tmp_path: Path,
) -> None:
    rig = make_rig(tmp_path)
    events = full_outbox()
    rig.agent.events = events
    pulses = record_pulses(rig)

    # GIVEN a full outbox WHEN three envelopes go in
    for _ in range(3):
        rig.deposit()
    rig.advance(0.1)  # the storage fault report goes through the machine

    # THEN no slip, no beep but the long error tone, the alarm LED blinks, the box says so
    assert rig.printer.slips == []
    assert pulses and all(s == runtime.ERROR_TONE_S for _, s in pulses)
    assert rig.agent.state()["alerts"][0] == held.STORAGE_ALERT
    assert "3 deposits held" in rig.agent.state()["alerts"][1]
    assert rig.box.output_on(Output.ALARM_LED) or "storage:full" in rig.agent.machine.faults
    assert rig.agent.machine.counters.last_deposit_no == 3  # it kept counting
    assert events.records == []

    # WHEN nothing changed at the next retry THEN the alert stays (it clears with the condition)
    rig.advance(held.HOLD_RETRY_S + 0.1)
    assert rig.agent.state()["alerts"][0] == held.STORAGE_ALERT

    # WHEN room returns THEN the held events are stored in order with their own times, the
    # fault is stored as begun and then cleared, and the alert goes
    events.fail_with(None)
    rig.advance(held.HOLD_RETRY_S + 0.1)
    rig.advance(0.1)
    assert [p["deposit_no"] for p in events.of("dropbox.deposit")] == [1, 2, 3]
    faults = [(f["code"], f["active"]) for f in events.of("device.fault")]
    assert faults == [("full", True), ("full", False)]
    times = [t for name, _, t in events.records if name == "dropbox.deposit"]
    assert times == sorted(times) and times[0] is not None and times[0] < rig.clock.now()
    assert held.STORAGE_ALERT not in rig.agent.state()["alerts"]
    assert rig.agent.held_events == 0

    # and the next deposit beeps and prints as usual
    pulses.clear()
    rig.deposit()
    assert events.of("dropbox.deposit")[-1]["deposit_no"] == 4
    assert (Output.BUZZER, runtime.ERROR_TONE_S) not in pulses and pulses
    settle_slips(rig)
    assert len(rig.printer.slips) == 1  # only the stored one after room returned


def test_at_the_outbox_cap_slips_match_stored_deposits(tmp_path: Path) -> None:
    # GIVEN the outbox at its size cap, the back office away
    rig = make_rig(tmp_path)
    outbox = Outbox(tmp_path / "capped.db", "dropbox-t", max_mb=0.0625)
    sink = EventLog(outbox=outbox)
    rig.agent.events = sink

    for _ in range(150):
        rig.deposit()
    settle_slips(rig)

    # THEN every slip has its stored event, and the box says the outbox is full
    stored = stored_payloads(outbox, "dropbox.deposit")
    assert 0 < len(stored) < 150
    assert len(rig.printer.slips) == len(stored)
    assert rig.agent.machine.counters.last_deposit_no == 150
    assert rig.agent.held_events >= 150 - len(stored)
    assert sink.states[-1]["alerts"][0] == held.STORAGE_ALERT
    outbox.close()


def test_a_full_data_disk_counts_every_deposit_and_stores_them_when_space_returns(
    tmp_path: Path,
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        rig = make_rig(tmp_path)
        outbox = Outbox(disk.path / "outbox.db", "dropbox-t")
        sink = EventLog(outbox=outbox)
        rig.agent.events = sink
        for _ in range(3):
            rig.deposit()
        disk.fill()

        for _ in range(6):
            rig.deposit()
        rig.advance(held.HOLD_RETRY_S + 0.1)
        assert rig.agent.state()["alerts"][0] == held.STORAGE_ALERT  # still full: still said
        assert len(stored_payloads(outbox, "dropbox.deposit")) == 3

        disk.free()
        rig.advance(held.HOLD_RETRY_S + 0.1)
        rig.advance(0.1)
        settle_slips(rig)

        assert [p["deposit_no"] for p in stored_payloads(outbox, "dropbox.deposit")] == list(
            range(1, 10)
        )
        assert len(rig.printer.slips) == 3  # the six counted while full got no slip
        faults = [(f["code"], f["active"]) for f in stored_payloads(outbox, "device.fault")]
        assert faults == [("full", True), ("full", False)]
        assert held.STORAGE_ALERT not in rig.agent.state()["alerts"]
        outbox.close()


def test_an_agent_starts_on_a_corrupt_outbox_with_a_new_one_and_a_fault(tmp_path: Path) -> None:
    # GIVEN an outbox whose pages were overwritten (a deposit pending in it)
    config = make_config(tmp_path)
    outbox = Outbox(config.uplink.outbox_path, "dropbox-t")
    outbox.record("dropbox.deposit", DEPOSIT)
    outbox.close()
    config.uplink.outbox_path.write_bytes(b"\x00garbage" * 1000)

    # WHEN the agent starts on it THEN it serves with a new outbox that says what happened
    clock = ManualClock()
    agent = app.build(
        config,
        clock=clock,
        box=SimulatedBox(config.pins, config.polarity, clock),
        printer=SimulatedPrinter(),
        fill=SimulatedFillSensor(),
        keypad=SimulatedKeypad(),
        uplink_clock=clock,
    )
    agent.start()
    try:
        uplink = agent.uplink
        assert uplink is not None and uplink.outbox.moved_aside is not None
        faults = [json.loads(r.body)["payload"] for r in uplink.outbox.after(0, 10)]
        assert faults[0]["component"] == "outbox" and faults[0]["active"] is True
        assert agent.machine.counters.last_deposit_no == 0  # nothing readable to reconcile
    finally:
        agent.close()


def test_reconcile_skips_a_damaged_row_and_counts_the_rest() -> None:
    damaged = {"box_id": "dropbox-t", "deposit_no": "x"}
    counters = reconcile_counters(
        BoxCounters(), [("dropbox.deposit", damaged), ("dropbox.deposit", DEPOSIT)]
    )
    assert counters.last_deposit_no == 4 and counters.pending_count == 2


class StubUplink:
    """Just what `run` and `close` ask of the uplink; `alive` is set by the test."""

    def __init__(self) -> None:
        self.is_alive = True
        self.asked = 0
        self.ask_changed = threading.Condition()

    def alive(self) -> bool:
        with self.ask_changed:
            self.asked += 1
            self.ask_changed.notify_all()
        return self.is_alive

    def wait_asked(self, times: int) -> bool:
        with self.ask_changed:
            target = self.asked + times
            return self.ask_changed.wait_for(lambda: self.asked >= target, 10)

    def wait_drained(self, _timeout: float) -> bool:
        return True

    def stop(self) -> None:
        """Nothing to stop."""


def test_the_watchdog_is_not_fed_once_the_uplink_has_really_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = make_rig(tmp_path)
    fed: list[int] = []
    monkeypatch.setattr(runtime.systemd, "notify_watchdog", lambda: fed.append(1) or True)
    monkeypatch.setattr(runtime.systemd, "notify_ready", lambda: True)
    uplink = StubUplink()
    rig.agent.uplink = uplink  # type: ignore[assignment]
    rig.agent._watchdog_s = 0.01  # come round often
    stop = threading.Event()
    loop = threading.Thread(target=rig.agent.run, args=(stop,))
    loop.start()
    try:
        assert uplink.wait_asked(3)
        assert fed  # alive: fed on every pass
        uplink.is_alive = False
        assert uplink.wait_asked(1)
        before = len(fed)
        assert uplink.wait_asked(3)
        assert len(fed) == before  # stopped: systemd's WatchdogSec restarts the service
    finally:
        stop.set()
        loop.join(10)
    assert not loop.is_alive()


def test_deposits_held_when_the_box_stops_are_stored_after_its_restart(tmp_path: Path) -> None:
    # GIVEN two deposits counted while the outbox was full, then the box stops
    rig = make_rig(tmp_path)
    rig.agent.events = full_outbox()
    rig.deposit()
    rig.deposit()
    rig.agent.close()

    # WHEN it starts again with room in the outbox
    again = make_rig(tmp_path)
    again.advance(0.1)
    again.advance(0.1)

    # THEN the held deposits are stored with their first times, numbering continues, and the
    # storage fault ends cleared
    assert [p["deposit_no"] for p in again.events.of("dropbox.deposit")] == [1, 2]
    assert [f["active"] for f in again.events.of("device.fault")][-1] is False
    again.deposit()
    assert again.events.of("dropbox.deposit")[-1]["deposit_no"] == 3
    assert held.STORAGE_ALERT not in again.agent.state()["alerts"]
    again.agent.close()


def test_a_corrupt_box_database_is_moved_aside_and_the_box_keeps_counting(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    config.local_db_path.write_bytes(b"\x02" * 8192)  # not a database any more

    rig = make_rig(tmp_path, config)
    rig.advance(0.1)
    faults = [(f["component"], f["code"], f["active"]) for f in rig.events.of("device.fault")]
    assert ("box_store", "replaced_unusable", True) in faults
    rig.deposit()
    assert rig.events.of("dropbox.deposit")[-1]["deposit_no"] == 1
    assert list(tmp_path.glob("box.db.unusable-*"))
    rig.agent.close()


def test_a_box_stopped_cleanly_starts_again_on_a_full_disk_and_recovers_when_space_returns(
    tmp_path: Path, broker: LocalBroker, request: pytest.FixtureRequest
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        # GIVEN a box that counted a deposit while the back office was away, stopped cleanly
        data = config_data(disk.path, broker.client_config("dropbox-full").model_dump())
        data["box_id"] = data["uplink"]["device_id"] = "dropbox-full"
        data["uplink"]["ack_timeout_s"] = 1
        config = DropboxConfig.model_validate(data)

        def start() -> tuple[DropboxAgent, SimulatedPrinter, ManualClock, SimulatedBox]:
            clock = ManualClock()
            box = SimulatedBox(config.pins, config.polarity, clock)
            printer = SimulatedPrinter()
            agent = app.build(
                config,
                clock=clock,
                box=box,
                printer=printer,
                fill=SimulatedFillSensor(),
                keypad=SimulatedKeypad(),
            )
            agent.start()
            return agent, printer, clock, box

        def deposit(agent: DropboxAgent, clock: ManualClock, box: SimulatedBox) -> None:
            for active in (True, False):
                box.drive(Input.BEAM, active)
                clock.advance(0.2)
                agent.pump(0)

        agent, _, clock, box = start()
        deposit(agent, clock, box)
        agent.close()
        assert not (disk.path / "outbox.db-wal").exists()  # a clean stop leaves no WAL

        # WHEN the disk fills up and the box starts again
        disk.fill()
        agent, printer, clock, box = start()
        try:
            # THEN it serves: it counts on without slips and says the storage is full
            deposit(agent, clock, box)
            deposit(agent, clock, box)
            assert agent.machine.counters.last_deposit_no == 3
            assert agent.state()["alerts"][0] == held.STORAGE_ALERT
            assert agent.held_events >= 2
            # and the deposit stored before the stop reaches the back office from the full disk
            receiver: Receiver = request.getfixturevalue("backoffice")
            wait_until(lambda: deposits_at(receiver, "dropbox-full") == [1], "deposit 1 stored")

            # WHEN space returns THEN the held deposits are stored in order, once, and delivered
            disk.free()
            clock.advance(held.HOLD_RETRY_S + 0.1)
            agent.pump(0)
            clock.advance(0.1)
            agent.pump(0)
            assert agent.held_events == 0
            assert held.STORAGE_ALERT not in agent.state()["alerts"]
            assert agent.uplink is not None and agent.uplink.wait_drained(30)
            assert deposits_at(receiver, "dropbox-full") == [1, 2, 3]
            agent.close()  # joins the printer: the deposits counted while full got no slip
            assert printer.slips == []
        finally:
            agent.close()


def deposits_at(receiver: Receiver, device_id: str) -> list[int]:
    rows = receiver.store.events_after(0, 1000, "dropbox.deposit")  # type: ignore[attr-defined]
    return sorted(r.payload["deposit_no"] for r in rows if r.device_id == device_id)


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
    """Wait for what another thread or process makes true (checked every 50 ms)."""
    tick = threading.Event()
    for _ in range(int(timeout_s / 0.05)):
        if condition():
            return
        tick.wait(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def test_a_first_start_on_a_full_disk_is_one_line_naming_the_outbox_and_the_full_disk(
    tmp_path: Path,
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        # GIVEN a box never started before, on a data partition that is already full
        config = make_config(disk.path)
        disk.fill()
        # WHEN it starts THEN it stops in one line that says what to free (not the certificates)
        with pytest.raises(SetupError) as refused:
            simulated_box(config)
        line = str(refused.value)
        assert "\n" not in line
        assert line.startswith("cannot open the outbox (uplink.outbox_path): ")
        assert "data partition is full" in line and "ca_file" not in line
        # and it leaves nothing that the next start would take for a truncated outbox
        assert not config.uplink.outbox_path.exists()
        disk.free()
        agent = simulated_box(config)
        try:
            assert agent.uplink is not None and agent.uplink.outbox.moved_aside is None
        finally:
            agent.close()


def simulated_box(config: DropboxConfig) -> DropboxAgent:
    """An agent built from `config` with its real uplink, on simulated devices."""
    clock = ManualClock()
    return app.build(
        config,
        clock=clock,
        box=SimulatedBox(config.pins, config.polarity, clock),
        printer=SimulatedPrinter(),
        fill=SimulatedFillSensor(),
        keypad=SimulatedKeypad(),
    )
