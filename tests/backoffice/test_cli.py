"""`backoffice` commands as a service manager and an operator run them."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from backoffice.__main__ import main
from backoffice.config import BackofficeConfig
from branchsim.broker import LocalBroker
from configkit import dump_toml

ROOT = Path(__file__).resolve().parents[2]


def write_config(broker: LocalBroker, tmp_path: Path) -> Path:
    path = tmp_path / "backoffice.toml"
    config = BackofficeConfig(
        broker=broker.client_config("backoffice"), database_path=tmp_path / "events.db"
    )
    path.write_text(dump_toml(config), encoding="utf-8")
    return path


def test_receive_tells_systemd_it_is_ready_and_alive(broker: LocalBroker, tmp_path: Path) -> None:
    notify_path = tmp_path / "notify.sock"
    config = write_config(broker, tmp_path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(notify_path))
        notify.settimeout(30)
        service = subprocess.Popen(
            [sys.executable, "-m", "backoffice", "receive", "--config", str(config)],
            cwd=ROOT,
            env={**os.environ, "NOTIFY_SOCKET": str(notify_path)},
            stderr=subprocess.DEVNULL,
        )
        try:
            seen: set[bytes] = set()
            while not {b"READY=1", b"WATCHDOG=1"} <= seen:
                seen.add(notify.recv(64))
        finally:
            service.send_signal(signal.SIGTERM)
            assert service.wait(30) == 0  # a clean stop on SIGTERM


def test_config_check_and_watch_once(
    broker: LocalBroker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_config(broker, tmp_path)
    assert main(["config", "check", str(good)]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(good.read_text().replace("batch_max", "batch_maks"), encoding="utf-8")
    assert main(["config", "check", str(bad)]) == 2
    assert "receiver.batch_maks = 1000: unknown key (did you mean 'batch_max'?)" in (
        capsys.readouterr().err
    )
    # No store yet: a clear next step, not a traceback.
    assert main(["watch", "--config", str(good), "--once"]) == 1
    assert "start `backoffice receive` first" in capsys.readouterr().err


def test_receive_with_the_broker_down_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """GIVEN no broker at the configured address
    WHEN the receiver starts and keeps retrying (every second)
    THEN it says what it waits for, and that it cannot reach it once, not once per attempt."""
    import threading

    from backoffice.receiver import Receiver
    from backoffice.store import SqliteEventStore
    from provisioning.broker import free_port
    from uplink.config import BrokerConfig

    caplog.set_level(logging.INFO, logger="backoffice.receiver")
    port = free_port()
    config = BackofficeConfig(
        broker=BrokerConfig(host="127.0.0.1", port=port, tls=False, username="backoffice"),
        database_path=tmp_path / "events.db",
    )
    receiver = Receiver(config, SqliteEventStore(config.database_path or tmp_path / "x.db"))
    receiver.start()
    tick = threading.Event()
    try:
        for _ in range(100):
            if any("cannot reach the broker" in r.getMessage() for r in caplog.records):
                break
            tick.wait(0.05)
        tick.wait(2.5)  # two or three more attempts
    finally:
        receiver.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert f"receiver waiting for the broker at 127.0.0.1:{port} (it retries every second)" in (
        messages
    )
    assert sum("cannot reach the broker" in m for m in messages) == 1
