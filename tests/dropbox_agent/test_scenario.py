"""Scenario files, keyboard commands and the simulated box end to end through the broker."""

from __future__ import annotations

import io
import logging
import random
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from backoffice.receiver import Receiver
from backoffice.store import SqliteEventStore
from branchsim.broker import LocalBroker
from dropbox_agent import app
from dropbox_agent.__main__ import main
from dropbox_agent.adapters.box_store import SqliteBoxStore
from dropbox_agent.agent import DropboxAgent
from dropbox_agent.config import DropboxConfig
from dropbox_agent.domain.model import Input
from dropbox_agent.errors import ScenarioError
from dropbox_agent.sim import runner
from dropbox_agent.sim.box import SimulatedBox
from dropbox_agent.sim.devices import SimulatedFillSensor, SimulatedKeypad, SimulatedPrinter
from dropbox_agent.sim.scenario import (
    DepositStep,
    DoorStep,
    FillStep,
    Hands,
    KeypadStep,
    PrinterStep,
    load_scenario,
    parse_command,
    run_scenario,
)
from tests.dropbox_agent.conftest import PIN, config_data, make_config
from uplink import Clock, ManualClock, SimulatedClock
from uplink.sink import EventLog

BRANCH_DAY = Path(__file__).parents[2] / "dropbox_agent" / "sim" / "scenarios" / "branch-day.toml"


def test_the_shipped_branch_day_is_about_a_minute_and_collects_what_it_deposits() -> None:
    plan = load_scenario(BRANCH_DAY)
    assert 50 <= plan.duration_s() <= 70
    deposits = [s for s in plan.steps if isinstance(s, DepositStep)]
    before_collection = sum(s.count for s in deposits if s.at_s < 34)
    counts = [s.text for s in plan.steps if isinstance(s, KeypadStep) and s.text.startswith("*")]
    assert counts == [f"*{before_collection}#"]


def test_a_bad_scenario_names_the_step_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[steps]]\nat_s = 1\naction = "door"\n\n[[steps]]\naction = "dance"\n')
    with pytest.raises(ScenarioError) as caught:
        load_scenario(bad)
    text = str(caught.value)
    assert "steps.0.door.open" in text or "steps.0" in text
    assert "steps.1" in text
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("d 3", DepositStep(action="deposit", count=3, every_s=0.5)),
        ("o", DoorStep(action="door", open=True)),
        ("p 2468", KeypadStep(action="keypad", text="2468")),
        ("f none", FillStep(action="fill", no_echo=True)),
        ("printer paper_out", PrinterStep(action="printer", fault="paper_out")),
        ("q", "quit"),
        ("  ", None),
    ],
)
def test_keyboard_commands_map_to_steps(line: str, expected: object) -> None:
    assert parse_command(line) == expected


@pytest.mark.parametrize("line", ["zap", "d many", "printer jammed", "p"])
def test_unknown_keyboard_commands_show_the_help(line: str) -> None:
    with pytest.raises(ScenarioError, match="Perintah / commands"):
        parse_command(line)


def test_hands_move_the_mock_pins_as_the_steps_say(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    box = SimulatedBox(config.pins, config.polarity, ManualClock())
    keypad, fill, printer = SimulatedKeypad(), SimulatedFillSensor(), SimulatedPrinter()
    lines: list[str] = []
    keypad.start(lines.append)
    edges: list[tuple[Input, bool]] = []
    box.listen(lambda name, active, _t: edges.append((name, active)))
    asked = threading.Event()
    hands = Hands(box, keypad, fill, printer, asked.set, speed=1000.0, rng=random.Random(1))
    stop = threading.Event()
    for step in (
        DepositStep(action="deposit", count=2, every_s=1.0, chatter=False),
        DoorStep(action="door", open=True),
        KeypadStep(action="keypad", text="*2#"),
        FillStep(action="fill", distance_cm=12.5),
        PrinterStep(action="printer", fault="offline"),
    ):
        hands.perform(step, stop)
    box.close()
    beam = [a for name, a in edges if name is Input.BEAM]
    assert beam == [True, False, True, False]
    assert edges[-1] == (Input.DOOR, True)
    assert lines == ["*2#"]
    assert fill.read_distance_cm() == 12.5 and asked.is_set()
    assert printer.fault == "offline"


def test_run_scenario_stops_early_when_asked(tmp_path: Path) -> None:
    plan = load_scenario(BRANCH_DAY)
    config = make_config(tmp_path)
    box = SimulatedBox(config.pins, config.polarity, ManualClock())
    hands = Hands(box, SimulatedKeypad(), None, None, lambda: None, speed=1.0, rng=random.Random(1))
    stop = threading.Event()
    stop.set()
    assert run_scenario(plan, hands, stop) is False
    box.close()


def _sim_config(tmp_path: Path, broker: LocalBroker, device_id: str) -> DropboxConfig:
    data = config_data(tmp_path, broker.client_config(device_id).model_dump())
    data["box_id"] = device_id
    data["uplink"]["device_id"] = device_id
    return DropboxConfig.model_validate(data)


def test_run_simulated_plays_the_branch_day_into_the_back_office(
    backoffice: Receiver, broker: LocalBroker, tmp_path: Path
) -> None:
    """The whole-branch simulation's entry point: deposits, a matching collection, and a
    retained state with summary and alerts reach the back office."""
    config = _sim_config(tmp_path, broker, "dropbox-sim")
    # The shipped scenario types the example's PIN; this config's officer has the same PIN.
    assert PIN == "2468"
    runner.run_simulated(
        config,
        BRANCH_DAY,
        speed=40.0,
        stop=threading.Event(),
        slips_dir=tmp_path / "slips",
        drain_s=60,  # returns once drained; 5 s ran out on a loaded machine (6 of 7 stored)
    )
    store = backoffice.store
    assert isinstance(store, SqliteEventStore)
    assert store.count("dropbox.deposit") == 7
    [confirmed] = [e.payload for e in store.events_after(0, 100, "dropbox.collection_confirmed")]
    assert (confirmed["deposits_logged"], confirmed["counted"]) == (6, 6)
    [device] = [d for d in store.devices() if d.device_id == "dropbox-sim"]
    assert device.state is not None
    assert device.state["summary"].startswith("1 titipan menunggu")
    assert device.state["alerts"] == ["KERTAS STRUK HABIS / receipt paper out"]
    slips = sorted((tmp_path / "slips").glob("slip-*.png"))
    assert len(slips) == 6  # the 7th met no paper
    # The simulated slips are printed paper, like the kiosk's tickets: the QR reads back.
    [qr] = zxingcpp.read_barcodes(Image.open(slips[0]))
    codes = [e.payload["code"] for e in store.events_after(0, 100, "dropbox.deposit")]
    assert qr.text in codes


def test_a_box_done_with_its_day_stays_online_until_stopped(
    backoffice: Receiver, broker: LocalBroker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """GIVEN the whole-branch simulation's dropbox (serve_after)
    WHEN its scripted day has ended
    THEN it keeps running and the back office sees it online (idle is not offline), until stop."""
    config = _sim_config(tmp_path, broker, "dropbox-idle")
    stop = threading.Event()
    caplog.set_level(logging.INFO, logger="dropbox_agent.sim.runner")
    box = threading.Thread(
        target=runner.run_simulated,
        args=(config, BRANCH_DAY),
        kwargs={"speed": 40.0, "stop": stop, "serve_after": True},
    )
    box.start()
    store = backoffice.store
    assert isinstance(store, SqliteEventStore)
    try:
        for _ in range(300):
            if any("branch-day.toml ended" in r.getMessage() for r in caplog.records):
                break
            stop.wait(0.1)
        else:
            raise AssertionError("the scenario did not end in 30 s")
        stop.wait(1.0)
        assert box.is_alive()
        [device] = [d for d in store.devices() if d.device_id == "dropbox-idle"]
        assert device.online is True
    finally:
        stop.set()
        box.join(30)
    assert not box.is_alive()
    [device] = [d for d in store.devices() if d.device_id == "dropbox-idle"]
    assert device.online is False  # said goodbye when stopped


def test_a_stopped_simulation_returns_promptly(
    backoffice: Receiver, broker: LocalBroker, tmp_path: Path
) -> None:
    config = _sim_config(tmp_path, broker, "dropbox-stop")
    stop = threading.Event()
    stop.set()
    runner.run_simulated(config, BRANCH_DAY, speed=1.0, stop=stop, drain_s=1.0)
    assert backoffice.store.count("dropbox.deposit") == 0  # type: ignore[attr-defined]


def test_the_keyboard_simulator_deposits_and_reports(
    backoffice: Receiver, broker: LocalBroker, tmp_path: Path
) -> None:
    config = _sim_config(tmp_path, broker, "dropbox-keys")
    out = io.StringIO()
    commands = io.StringIO("d 2\nzap\ns\nq\n")
    runner.run_interactive(config, speed=20.0, stop=threading.Event(), commands=commands, out=out)
    text = out.getvalue()
    assert "2 titipan menunggu" in text
    assert "not understood: 'zap'" in text
    # Each command echoes what the box recorded and its outputs (LEDs, buzzer, UV, slips).
    assert "  → dropbox.deposit #1\n  → dropbox.deposit #2\n" in text
    assert "LED siap/ready=" in text and "buzzer=" in text and "UV=off" in text
    assert "slip printed: 2" in text
    assert backoffice.store.count("dropbox.deposit") == 2  # type: ignore[attr-defined]


def test_cli_simulate_refuses_a_bad_scenario_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = tmp_path / "box.toml"
    config_file.write_text(
        (Path(__file__).parents[2] / "dropbox_agent" / "examples" / "dropbox.toml").read_text()
    )
    assert main(["simulate", "--config", str(config_file), "--scenario", "nope.toml"]) == 2
    assert "scenario:" in capsys.readouterr().err
    assert main(["simulate", "--config", str(config_file), "--speed", "0"]) == 2


def test_cli_run_without_gpio_exits_1_with_advice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dropbox_agent.adapters import gpio

    monkeypatch.setattr(gpio, "is_usable", lambda: (False, "no GPIO here; use simulate"))
    example = Path(__file__).parents[2] / "dropbox_agent" / "examples" / "dropbox.toml"
    assert main(["run", "--config", str(example)]) == 1
    assert "use simulate" in capsys.readouterr().err


def test_hash_secret_from_stdin_makes_a_hash_the_config_accepts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("2468\n"))
    assert main(["hash-secret", "--stdin"]) == 0
    hashed = capsys.readouterr().out.strip()
    from dropbox_agent.domain.auth import verify_secret

    assert verify_secret("2468", hashed)
    assert "2468" not in hashed


def test_cli_without_certificates_exits_1_saying_what_to_provision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = Path(__file__).parents[2] / "dropbox_agent" / "examples" / "dropbox.toml"
    text = example.read_text().replace("/var/lib/lapak/dropbox", str(tmp_path))
    text = text.replace("/etc/lapak/tls", str(tmp_path / "missing-tls"))
    config_file = tmp_path / "box.toml"
    config_file.write_text(text)
    assert main(["simulate", "--config", str(config_file), "--scenario", str(BRANCH_DAY)]) == 1
    err = capsys.readouterr().err
    assert "cannot set up the uplink" in err
    assert "uplink.broker.ca_file = /etc/lapak/pki/ca.crt: no such file" in err  # which file
    assert "provision device" in err


def test_the_keyboard_simulator_echoes_the_door_the_keypad_and_the_collection(
    backoffice: Receiver, broker: LocalBroker, tmp_path: Path
) -> None:
    """`p PIN`, `o`, `c`, `p *1#` (issue 15: they gave no feedback): each answers with what the
    box recorded and its outputs (the LEDs and the buzzer), so a technician sees it happen."""
    config = _sim_config(tmp_path, broker, "dropbox-door")
    out = io.StringIO()
    commands = io.StringIO(f"d\np {PIN}\no\nc\np *1#\nq\n")
    runner.run_interactive(config, speed=20.0, stop=threading.Event(), commands=commands, out=out)
    text = out.getvalue()
    echoed = [line.strip() for line in text.splitlines() if line.startswith("  → ")]
    assert echoed == [
        "→ dropbox.deposit #1",
        "→ struk dicetak / slip printed: 1",
        "→ dropbox.authorization",  # p PIN
        "→ dropbox.collection_started",  # o
        "→ dropbox.door",
        "→ dropbox.door",  # c
        "→ dropbox.collection_confirmed",  # p *1#
    ]
    assert text.count("  LED siap/ready=on · penuh/full=off · alarm=off · buzzer=off") == 5


class StallingClock(ManualClock):
    """A busy machine: while `stall_s` is set, time moves on before every reading."""

    stall_s = 0.0

    def monotonic(self) -> float:
        if self.stall_s:
            self.advance(self.stall_s)
        return super().monotonic()


def started_box(
    tmp_path: Path, clock: Clock
) -> tuple[DropboxConfig, SimulatedBox, EventLog, DropboxAgent]:
    """A started box on `clock` with no printer and no fill sensor, recording into an EventLog."""
    config = make_config(tmp_path, printer={"enabled": False}, fill={"enabled": False})
    box = SimulatedBox(config.pins, config.polarity, clock)
    events = EventLog(device_id="dropbox-t")
    agent = app.build(
        config,
        clock=clock,
        box=box,
        events=events,
        store=SqliteBoxStore(config.local_db_path, boot_id="test-boot"),
        keypad=SimulatedKeypad(),
    )
    agent.start()
    return config, box, events, agent


def test_a_bounce_train_is_one_edge_even_when_the_machine_stalls_between_its_bounces(
    tmp_path: Path,
) -> None:
    # GIVEN a simulated box whose clock moves a beam debounce and more between any two readings
    clock = StallingClock()
    config, box, events, agent = started_box(tmp_path, clock)
    try:
        # WHEN three envelopes pass, each edge a train of bounces driven on the stalling clock
        for _ in range(3):
            for active in (True, False):
                clock.stall_s = config.timings.beam_debounce_ms / 1000 * 2
                box.chatter(Input.BEAM, active, random.Random(3), bounces=4)
                clock.stall_s = 0.0
                clock.advance(0.3)
                agent.pump(0)
        # THEN the box counts three deposits, not one per bounce
        assert [p["deposit_no"] for p in events.of("dropbox.deposit")] == [1, 2, 3]
    finally:
        agent.close()


def test_envelopes_scheduled_back_to_back_are_each_a_deposit(tmp_path: Path) -> None:
    # GIVEN a simulated box at x10 and a step whose envelopes follow each other within the
    # beam's debounce (as a scenario behind its schedule on a busy machine drives them)
    clock = SimulatedClock(datetime(2026, 12, 1, 1, 0, tzinfo=UTC), 10.0)
    _config, box, events, agent = started_box(tmp_path, clock)
    hands = Hands(box, SimulatedKeypad(), None, None, lambda: None, 10.0, random.Random(5))
    step = DepositStep(action="deposit", count=3, every_s=0.001, hold_ms=10)
    try:
        # WHEN the step is played
        hands.deposit(step, threading.Event())
        pause = threading.Event()
        for _ in range(200):  # the last one settles after the debounce (waited for, not timed)
            agent.pump(0.01)
            if len(events.of("dropbox.deposit")) >= 3 or pause.wait(0.01):
                break
        # THEN the beam stayed clear between them long enough: three deposits, not one
        assert [p["deposit_no"] for p in events.of("dropbox.deposit")] == [1, 2, 3]
    finally:
        agent.close()
