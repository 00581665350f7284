"""A device whose broker is down says so once, not on every reconnect attempt."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from provisioning.broker import free_port
from uplink import Uplink, UplinkConfig
from uplink.config import BrokerConfig


def test_an_unreachable_broker_is_warned_about_once_per_minute(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="uplink.session")
    config = UplinkConfig(
        device_id="dropbox-quiet",
        broker=BrokerConfig(host="127.0.0.1", port=free_port(), tls=False, username="x"),
        outbox_path=tmp_path / "outbox.db",
        heartbeat_interval_s=0,
        reconnect_min_s=0.01,
        reconnect_max_s=0.02,
    )
    uplink = Uplink(config)
    uplink.start()
    tick = threading.Event()
    try:
        for _ in range(200):  # until several attempts were made
            attempts = [r for r in caplog.records if "cannot reach broker" in r.getMessage()]
            if len(attempts) >= 5:
                break
            tick.wait(0.05)
    finally:
        uplink.stop()
    attempts = [r for r in caplog.records if "cannot reach broker" in r.getMessage()]
    assert len(attempts) >= 5
    warnings = [r for r in attempts if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "events stay in the outbox" in warnings[0].getMessage()
