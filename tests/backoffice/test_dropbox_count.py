"""`backoffice collection-count`: the officer's count reaches the box, and only the back office
may send it."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from backoffice.__main__ import main
from backoffice.config import BackofficeConfig
from backoffice.dropbox_count import COMMAND, count_command
from configkit import dump_toml
from provisioning.broker import LocalBroker
from uplink import topics
from uplink.errors import MessageError
from uplink.session import make_client


def config_as(broker: LocalBroker, identity: str, tmp_path: Path) -> str:
    path = tmp_path / f"{identity}.toml"
    config = BackofficeConfig(
        broker=broker.client_config(identity), database_path=tmp_path / "e.db"
    )
    path.write_text(dump_toml(config), encoding="utf-8")
    return str(path)


def test_the_count_reaches_the_box(broker: LocalBroker, tmp_path: Path) -> None:
    got: list[bytes] = []
    arrived, subscribed = threading.Event(), threading.Event()
    box = make_client("dropbox-41", broker.client_config("dropbox-41"))
    box.on_socket_register_write = None
    box.on_subscribe = lambda *_: subscribed.set()
    box.on_message = lambda _c, _u, message: (got.append(message.payload), arrived.set())
    box.connect("127.0.0.1", broker.tls_port)
    box.subscribe(topics.command("dropbox-41", COMMAND), qos=1)
    box.loop_start()
    try:
        assert subscribed.wait(10)
        args = ["--device", "dropbox-41", "--collection", "c-7", "--counted", "6"]
        config = config_as(broker, "backoffice", tmp_path)
        assert main(["collection-count", "--config", config, *args]) == 0
        assert arrived.wait(10)
    finally:
        box.disconnect()
        box.loop_stop()
    assert json.loads(got[0]) == {"collection_id": "c-7", "counted": 6}


def test_a_device_cannot_send_it_and_bad_counts_are_refused(
    broker: LocalBroker, tmp_path: Path
) -> None:
    args = ["--device", "dropbox-41", "--collection", "c-7", "--counted", "6"]
    config = config_as(broker, "kiosk-41", tmp_path)
    assert main(["collection-count", "--config", config, *args]) == 1
    with pytest.raises(MessageError, match="counted"):
        count_command("c-7", -1)
