"""Start-up lines of the kiosk and the dropbox: each says once what it waits for (the broker at
host:port, the camera, the printer, booking data), once that it is ready, and nothing per
retry while the broker is down."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from branchsim.branch import dropbox_setup, kiosk_setups
from branchsim.broker import LocalBroker
from uplink import SimulatedClock

START = datetime(2026, 6, 15, 7, 30, tzinfo=ZoneInfo("Asia/Jakarta"))
DOWN_S = 4.0  # the uplink retries several times meanwhile (backoff from 0.5 s)


def _messages(caplog: pytest.LogCaptureFixture, level: int = logging.INFO) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= level]


def _start_down_then_up(
    broker: LocalBroker,
    run: Callable[[threading.Event], None],
    ready_line: str,
    caplog: pytest.LogCaptureFixture,
) -> list[str]:
    """Run the service with the broker down for DOWN_S, then up until it says ready; the log
    lines it wrote meanwhile (INFO and up)."""
    caplog.set_level(logging.INFO)
    stop = threading.Event()
    service = threading.Thread(target=run, args=(stop,), name="service-under-test")
    service.start()
    try:
        stop.wait(DOWN_S)  # the broker is down: the service must keep quiet meanwhile
        broker.start()
        waited = threading.Event()
        for _ in range(300):  # up to 30 s under load for the ready line
            if any(ready_line in m for m in _messages(caplog)):
                break
            waited.wait(0.1)
    finally:
        stop.set()
        service.join(20)
        broker.stop()
    assert not service.is_alive()
    return _messages(caplog)


def test_a_kiosk_says_what_it_waits_for_once_and_that_it_is_ready_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """GIVEN a simulated kiosk whose broker is down for its first seconds
    WHEN it starts, retries, and the broker comes up
    THEN it says once what it waits for (broker at host:port, camera, printer, booking data),
    at most one warning about the broker, once that it serves while waiting, and once that it
    is ready; no line per retry."""
    from kiosk.sim.runner import build_simulated_kiosk

    broker = LocalBroker(tmp_path / "broker")
    clock = SimulatedClock(START, 1.0)
    [config] = kiosk_setups(tmp_path, broker, clock, 1)
    home = config.uplink.outbox_path.parent
    sim = build_simulated_kiosk(config, home / "camera", home / "tickets", clock)
    device = config.uplink.device_id
    lines = _start_down_then_up(broker, sim.kiosk.run, f"kiosk {device} ready", caplog)

    where = f"the broker at 127.0.0.1:{broker.tls_port}"
    starting = [m for m in lines if m.startswith(f"kiosk {device} starting")]
    assert starting == [
        f"kiosk {device} starting; waiting for {where}, the camera (folder), the printer "
        f"(simulated), booking data (trust list {config.booking.trust_list_path})"
    ]
    assert [m for m in lines if m.startswith(f"kiosk {device} serving")] == [
        f"kiosk {device} serving without {where} so far (events stay on the device until it "
        "answers)"
    ]
    assert len([m for m in lines if m.startswith(f"kiosk {device} ready: {where}")]) == 1
    unreachable = [m for m in lines if "cannot reach broker" in m]
    assert len(unreachable) <= 1, unreachable  # the uplink retried; it said so once
    assert not [m for m in lines if "still waiting" in m]  # no reminder within the minute
    assert len([m for m in lines if "uplink connected" in m]) == 1


def test_a_dropbox_says_what_it_waits_for_once_and_that_it_is_ready_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The same for the dropbox (the shipped example on simulated pins and printer)."""
    from dropbox_agent.sim.runner import SimulatedBoxKit

    broker = LocalBroker(tmp_path / "broker")
    config = dropbox_setup(tmp_path, broker)
    clock = SimulatedClock(START, 1.0)
    agent = SimulatedBoxKit(config, clock=clock, slips_dir=tmp_path / "slips").agent
    device = config.uplink.device_id
    lines = _start_down_then_up(broker, agent.run, f"dropbox {device} ready", caplog)

    where = f"the broker at 127.0.0.1:{broker.tls_port}"
    starting = [m for m in lines if m.startswith(f"dropbox {device} starting")]
    assert starting == [f"dropbox {device} starting; waiting for {where}, the printer (simulated)"]
    assert len([m for m in lines if m.startswith(f"dropbox {device} ready: {where}")]) == 1
    assert len([m for m in lines if m.startswith(f"dropbox {device} serving without")]) == 1
    assert len([m for m in lines if "cannot reach broker" in m]) <= 1
    assert not [m for m in lines if "still waiting" in m]
