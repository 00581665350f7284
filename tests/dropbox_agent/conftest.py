"""Fixtures for the dropbox agent: configs, a fake event sink, and the dropbox rig (`Rig`: a wired
agent on MockFactory pins and a manual clock; fixture `rig`)."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dropbox_agent import app
from dropbox_agent.adapters.box_store import SqliteBoxStore
from dropbox_agent.agent import DropboxAgent
from dropbox_agent.config import DropboxConfig
from dropbox_agent.domain.auth import hash_secret
from dropbox_agent.domain.model import Input
from dropbox_agent.sim.box import SimulatedBox
from dropbox_agent.sim.devices import SimulatedFillSensor, SimulatedKeypad, SimulatedPrinter
from uplink import ManualClock
from uplink.sink import EventLog

PIN = "2468"
BADGE = "LAPAK-BADGE:OFC-0042"
# Cheap hashes: the tests check the logic, not PBKDF2's cost.
PIN_HASH = hash_secret(PIN, iterations=1000, salt=b"0123456789abcdef")
BADGE_HASH = hash_secret(BADGE, iterations=1000, salt=b"fedcba9876543210")

PINS = {
    "beam": 17,
    "door": 27,
    "tamper": 22,
    "key_switch": 23,
    "ready_led": 5,
    "full_led": 6,
    "alarm_led": 13,
    "buzzer": 19,
    "uv_relay": 26,
    "fill_trigger": 24,
    "fill_echo": 25,
}


def config_data(tmp_path: Path, broker: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A full config as plain data (tests override parts of it)."""
    return {
        "box_id": "dropbox-t",
        "branch": "jakarta-salemba",
        "local_db_path": str(tmp_path / "box.db"),
        "uplink": {
            "device_id": "dropbox-t",
            "outbox_path": str(tmp_path / "outbox.db"),
            "broker": dict(broker or {"host": "127.0.0.1", "port": 1, "tls": False}),
            "heartbeat_interval_s": 0,
            "reconnect_min_s": 0.05,
            "reconnect_max_s": 0.5,
        },
        "pins": dict(PINS),
        "timings": {"heartbeat_interval_s": 0},
        "fill": {"enabled": True},
        "uv": {"enabled": True, "cycle_s": 60, "start_delay_s": 5},
        "printer": {"enabled": True},
        "collection": {
            "officers": [{"officer_id": "ofc-0042", "pin_hash": PIN_HASH, "badge_hash": BADGE_HASH}]
        },
    }


def make_config(tmp_path: Path, **sections: Any) -> DropboxConfig:
    data = config_data(tmp_path)
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return DropboxConfig.model_validate(data)


@dataclass
class Rig:
    """A wired agent on a ManualClock and MockFactory pins; tests drive it step by step."""

    config: DropboxConfig
    clock: ManualClock
    box: SimulatedBox
    events: EventLog
    keypad: SimulatedKeypad
    printer: SimulatedPrinter
    fill: SimulatedFillSensor
    agent: DropboxAgent
    rng: random.Random

    def advance(self, seconds: float) -> None:
        """Move time on and let the agent handle what fell due."""
        self.clock.advance(seconds)
        self.agent.pump(0)

    def drive(self, name: Input, active: bool) -> None:
        self.box.drive(name, active)
        self.agent.pump(0)

    def deposit(self, hold_s: float = 0.2) -> None:
        """One envelope through the slot with random chatter on both edges."""
        self.box.chatter(Input.BEAM, True, self.rng)
        self.advance(hold_s)
        self.box.chatter(Input.BEAM, False, self.rng)
        self.advance(0.05)

    def type_line(self, line: str) -> None:
        self.keypad.type_line(line)
        self.agent.pump(0)


def make_rig(tmp_path: Path, config: DropboxConfig | None = None, seed: int = 1) -> Rig:
    config = config or make_config(tmp_path)
    clock = ManualClock()
    box = SimulatedBox(config.pins, config.polarity, clock)
    events = EventLog(device_id="dropbox-t")
    keypad = SimulatedKeypad()
    printer = SimulatedPrinter()
    fill = SimulatedFillSensor()
    store = SqliteBoxStore(config.local_db_path, boot_id="test-boot")
    agent = app.build(
        config,
        clock=clock,
        box=box,
        events=events,
        store=store,
        fill=fill,
        printer=printer,
        keypad=keypad,
    )
    agent.start()
    return Rig(config, clock, box, events, keypad, printer, fill, agent, random.Random(seed))


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    made = make_rig(tmp_path)
    yield made
    made.agent.close()
