"""The wired agent on MockFactory pins and a manual clock: pins, keypad, printer, fill, restart."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dropbox_agent import app
from dropbox_agent.adapters.box_store import SqliteBoxStore
from dropbox_agent.domain.model import Input, Output
from dropbox_agent.errors import SetupError
from dropbox_agent.restore import pending_events
from dropbox_agent.sim.box import SimulatedBox
from dropbox_agent.sim.devices import SimulatedFillSensor, SimulatedKeypad, SimulatedPrinter
from receipts import lines_of
from tests.dropbox_agent.conftest import BADGE, PIN, Rig, make_config, make_rig
from uplink import ManualClock, Outbox, SimulatedClock, Uplink
from uplink.sink import EventLog


def until(rig: Rig, condition: Callable[[], bool], what: str) -> None:
    """Pump the agent until `condition` holds (other threads are involved); fail after 10 s."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        rig.agent.pump(0.01)


def test_a_deposit_on_the_pins_is_recorded_with_its_wall_time_and_printed(rig: Rig) -> None:
    rig.deposit(hold_s=0.25)
    [(_name, payload, occurred_at)] = [r for r in rig.events.records if r[0] == "dropbox.deposit"]
    assert payload["deposit_no"] == 1
    # The deposit is dated at the beam's last edge (0.05 s before "now" on the manual clock).
    assert occurred_at == rig.clock.now() - timedelta(seconds=0.05)
    until(rig, lambda: len(rig.printer.slips) == 1, "the slip")
    text = lines_of(rig.printer.slips[0])
    assert "No. 000001" in text
    assert payload["code"] in text
    assert any(line.startswith("Waktu / Time: 05-01-2026 08:0") for line in text)  # Jakarta


def test_a_thousand_chattering_envelopes_are_a_thousand_deposits(rig: Rig) -> None:
    for _ in range(1000):
        rig.deposit(hold_s=rig.rng.uniform(0.01, 0.5))
    numbers = [p["deposit_no"] for p in rig.events.of("dropbox.deposit")]
    assert numbers == list(range(1, 1001))


def test_keypad_lines_authorize_count_and_link_bookings_without_logging_secrets(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rig.type_line("BK-7QX2M9")
    rig.deposit()
    rig.type_line("9999")
    rig.type_line(PIN + "\n")
    rig.drive(Input.DOOR, True)
    rig.advance(0.1)
    rig.type_line("*1#")
    rig.drive(Input.DOOR, False)
    rig.advance(0.1)
    rig.type_line(BADGE)
    rig.type_line("hello")

    assert rig.events.of("dropbox.deposit")[0]["booking_ref"] == "BK-7QX2M9"
    auths = [
        (a["method"], a["granted"], a.get("officer_id"))
        for a in rig.events.of("dropbox.authorization")
    ]
    assert auths == [("pin", False, None), ("pin", True, "ofc-0042"), ("badge", True, "ofc-0042")]
    assert rig.events.of("dropbox.collection_confirmed")[0]["counted"] == 1
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert PIN not in logged and "9999" not in logged and "OFC-0042" not in logged


def test_uv_relay_pin_drops_on_the_first_raw_door_edge(rig: Rig) -> None:
    """GIVEN a disinfection running after a collection WHEN the door reed opens
    THEN the relay pin is de-energized by the very pass that sees the edge."""
    rig.type_line(PIN)
    rig.drive(Input.DOOR, True)
    rig.advance(0.1)
    rig.type_line("*0#")
    rig.drive(Input.DOOR, False)
    rig.advance(0.1)
    assert not rig.box.output_on(Output.UV_RELAY)
    rig.advance(5.0)  # the configured start delay
    assert rig.box.output_on(Output.UV_RELAY)

    rig.drive(Input.DOOR, True)  # no time passes: the raw edge alone
    assert not rig.box.output_on(Output.UV_RELAY)
    assert rig.events.of("dropbox.disinfection")[-1]["outcome"] == "aborted"


def test_printer_faults_are_reported_and_cleared_by_the_next_good_slip(rig: Rig) -> None:
    rig.printer.fail("paper_out")
    rig.deposit()
    until(rig, lambda: bool(rig.events.of("device.fault")), "the printer fault")
    assert rig.events.of("device.fault") == [
        {"component": "printer", "code": "paper_out", "active": True}
    ]
    assert "KERTAS STRUK HABIS / receipt paper out" in rig.agent.state()["alerts"]
    rig.printer.fail(None)
    rig.deposit()
    until(rig, lambda: len(rig.events.of("device.fault")) == 2, "the fault to clear")
    assert rig.events.of("device.fault")[1]["active"] is False
    assert len(rig.events.of("dropbox.deposit")) == 2  # no slip, but every deposit counted


def test_fill_readings_on_request_become_fill_events(rig: Rig) -> None:
    rig.fill.set_distance(9.0)
    rig.agent.request_fill_reading()
    until(rig, lambda: bool(rig.events.of("dropbox.fill")), "a fill event")
    assert rig.events.of("dropbox.fill")[0]["level"] == "full"
    assert rig.agent.state()["summary"].endswith("isi 98%")


def test_state_is_published_with_summary_and_alerts(rig: Rig) -> None:
    rig.deposit()
    until(rig, lambda: rig.events.states[-1]["deposits_pending_collection"] == 1, "state")
    state = rig.events.states[-1]
    assert state["summary"].startswith("1 titipan menunggu · pintu tertutup")
    assert state["alerts"] == []
    rig.drive(Input.TAMPER, True)
    rig.advance(0.1)
    until(rig, lambda: "SABOTASE KOTAK / tamper" in rig.events.states[-1]["alerts"], "alert")


def test_numbering_continues_after_a_restart(tmp_path: Path) -> None:
    first = make_rig(tmp_path)
    first.deposit()
    first.deposit()
    first.agent.close()
    second = make_rig(tmp_path)
    second.deposit()
    second.agent.close()
    assert second.events.of("dropbox.deposit")[0]["deposit_no"] == 3
    assert second.events.of("dropbox.deposit")[0]["pending_collection"] == 3
    store = SqliteBoxStore(tmp_path / "box.db", boot_id="x")
    edges = [item for _, item, _ in store.recent_inputs(100)]
    store.close()
    assert sum(1 for e in edges if getattr(e, "input", None) is Input.BEAM) >= 6


def test_an_idle_agent_sleeps_without_a_deadline_and_run_stops_on_request(tmp_path: Path) -> None:
    config = make_config(tmp_path, fill={"enabled": False}, uv={"enabled": False})
    rig = make_rig(tmp_path, config)
    rig.agent.pump(0)
    assert rig.agent.wait_s() is None  # nothing to do until an edge arrives: no polling
    stop = threading.Event()
    recorded = threading.Event()
    rig.agent.add_record_listener(lambda record, _env: recorded.set())
    loop = threading.Thread(target=rig.agent.run, args=(stop,))
    loop.start()
    rig.box.chatter(Input.BEAM, True, rig.rng)
    rig.clock.advance(0.2)
    rig.box.chatter(Input.BEAM, False, rig.rng)
    rig.clock.advance(0.2)
    rig.agent.wake()
    assert recorded.wait(10), "the loop did not record the deposit"
    stop.set()
    loop.join(10)
    assert not loop.is_alive()
    assert len(rig.events.of("dropbox.deposit")) == 1


def test_deposits_in_the_outbox_but_not_in_the_counters_are_counted_at_start(
    tmp_path: Path,
) -> None:
    """GIVEN a process killed between committing deposits to the outbox and saving its counters
    WHEN the agent starts again (broker unreachable)
    THEN it counts them, and the next deposit gets the next number."""
    config = make_config(tmp_path, fill={"enabled": False}, printer={"enabled": False})
    outbox = Outbox(config.uplink.outbox_path, config.uplink.device_id, clock=ManualClock())
    for n in (1, 2, 3):
        outbox.record(
            "dropbox.deposit",
            {
                "box_id": "dropbox-t",
                "deposit_no": n,
                "code": "ABCD-EFGH",
                "blocked_ms": 90,
                "pending_collection": n,
            },
        )
    outbox.close()
    clock = ManualClock()
    box = SimulatedBox(config.pins, config.polarity, clock)
    agent = app.build(config, clock=clock, box=box, keypad=SimulatedKeypad())
    agent.start()
    try:
        assert agent.machine.counters.last_deposit_no == 3
        box.drive(Input.BEAM, True)
        clock.advance(0.1)
        box.drive(Input.BEAM, False)
        clock.advance(0.1)
        agent.pump(0)
        assert agent.uplink is not None
        numbers = [p["deposit_no"] for t, p in pending_events(agent.uplink.outbox)]
        assert numbers == [1, 2, 3, 4]
    finally:
        agent.close()
    store = SqliteBoxStore(config.local_db_path, boot_id="check")
    counters = store.load_counters()
    store.close()
    assert counters is not None and (counters.last_deposit_no, counters.pending_count) == (4, 4)


def test_the_agent_takes_its_pace_from_a_simulated_clock(tmp_path: Path) -> None:
    """GIVEN an agent on a simulated clock running 10 times faster (no `speed` passed anywhere)
    WHEN a deposit is made
    THEN its beep and its waits last a tenth of their simulated seconds in real time."""
    config = make_config(
        tmp_path, fill={"enabled": False}, printer={"enabled": False}, uv={"enabled": False}
    )
    real = [100.0]
    start = datetime(2026, 6, 15, 1, 0, tzinfo=UTC)
    clock = SimulatedClock(start, 10.0, real_monotonic=lambda: real[0])
    box = SimulatedBox(config.pins, config.polarity, clock)
    pulses: list[tuple[Output, float]] = []
    box.pulse = lambda output, seconds: pulses.append((output, seconds))  # type: ignore[method-assign]
    store = SqliteBoxStore(config.local_db_path, boot_id="pace")
    agent = app.build(
        config, clock=clock, box=box, events=EventLog(device_id="dropbox-t"), store=store
    )
    agent.start()
    try:
        box.drive(Input.BEAM, True)
        agent.pump(0)
        deadline = agent.machine.next_deadline()
        assert deadline is not None
        wait = agent.wait_s()
        assert wait is not None
        assert wait == pytest.approx((deadline - clock.monotonic()) / 10.0)
        real[0] += 0.02  # 0.2 simulated seconds
        box.drive(Input.BEAM, False)
        real[0] += 0.02
        agent.pump(0)
    finally:
        agent.close()
    beep_s = config.machine_settings().beep_s
    assert (Output.BUZZER, pytest.approx(beep_s / 10.0)) in pulses


def files_open_on(path: Path) -> list[str]:
    """This process's file descriptors open on `path` (or its WAL files)."""
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        pytest.skip("needs /proc/self/fd (Linux)")
    targets = []
    for fd in fds.iterdir():
        try:
            targets.append(os.readlink(fd))
        except OSError:  # closed meanwhile (the listing's own descriptor)
            continue
    return [t for t in targets if t.startswith(str(path))]


def test_a_start_that_fails_on_its_tls_files_leaves_no_outbox_open(tmp_path: Path) -> None:
    # GIVEN a config whose client certificate is missing
    broker = {"host": "127.0.0.1", "port": 1, "tls": True}
    broker |= {"ca_file": str(tmp_path / "ca.crt"), "cert_file": str(tmp_path / "missing.crt")}
    broker |= {"key_file": str(tmp_path / "device.key")}
    for name in ("ca.crt", "device.key"):
        (tmp_path / name).write_text("not used: the certificate is missing first")
    config = make_config(tmp_path, uplink={"broker": broker})
    clock = ManualClock()

    # WHEN the agent is built THEN it stops in one line naming the file, with no outbox open
    with pytest.raises(SetupError, match=r"uplink\.broker\.cert_file = .*missing\.crt"):
        app.build(config, clock=clock, box=SimulatedBox(config.pins, config.polarity, clock))
    assert files_open_on(config.uplink.outbox_path) == []
    with pytest.raises(OSError, match="No such file"):
        Uplink(config.uplink)
    assert files_open_on(config.uplink.outbox_path) == []


def test_a_start_that_fails_on_its_box_store_closes_the_outbox_it_opened(tmp_path: Path) -> None:
    # GIVEN a box store path that is a folder, and an outbox that opens
    config = make_config(tmp_path, local_db_path=str(tmp_path / "a-folder"))
    config.local_db_path.mkdir()
    clock = ManualClock()

    # WHEN the agent is built THEN the box store is named and the outbox it opened is closed
    box = SimulatedBox(config.pins, config.polarity, clock)
    with pytest.raises(SetupError, match="cannot open the box store"):
        app.build(
            config,
            clock=clock,
            box=box,
            printer=SimulatedPrinter(),
            fill=SimulatedFillSensor(),
            keypad=SimulatedKeypad(),
        )
    assert config.uplink.outbox_path.exists()  # it was opened ...
    assert files_open_on(config.uplink.outbox_path) == []  # ... and closed again
