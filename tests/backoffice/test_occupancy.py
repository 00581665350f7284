"""Branch occupancy: the message contract and the `backoffice occupancy` command."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from backoffice.__main__ import main
from backoffice.config import BackofficeConfig
from backoffice.occupancy import occupancy_message
from branchsim.broker import LocalBroker
from configkit import dump_toml
from uplink import topics
from uplink.config import BrokerConfig
from uplink.errors import MessageError
from uplink.inbound import parse_occupancy
from uplink.session import make_client


def test_the_message_follows_the_schema_and_the_kiosk_reads_it() -> None:
    body = occupancy_message(41, 40, waiting={"JHT": 12})
    report = parse_occupancy(body)
    assert (report.inside, report.capacity) == (41, 40)
    assert report.waiting == {"JHT": 12}
    with pytest.raises(MessageError, match="inside"):
        occupancy_message(-1, 40)


def test_the_command_publishes_a_retained_report_kiosks_can_read(
    broker: LocalBroker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "backoffice.toml"
    config.write_text(
        dump_toml(
            BackofficeConfig(
                broker=broker.client_config("backoffice"), database_path=tmp_path / "e.db"
            )
        )
    )
    args = ["occupancy", "--config", str(config), "--branch", "jakarta-salemba"]
    assert main([*args, "--inside", "12", "--capacity", "40"]) == 0
    assert '"inside":12' in capsys.readouterr().out

    # A kiosk connecting later still gets it: it is retained.
    got: list[bytes] = []
    arrived = threading.Event()
    kiosk = make_client("kiosk-31", broker.client_config("kiosk-31"))
    kiosk.on_socket_register_write = None
    kiosk.on_message = lambda _c, _u, message: (got.append(message.payload), arrived.set())
    kiosk.connect("127.0.0.1", broker.tls_port)
    kiosk.subscribe(topics.occupancy("jakarta-salemba"), qos=1)
    kiosk.loop_start()
    try:
        assert arrived.wait(10)
    finally:
        kiosk.disconnect()
        kiosk.loop_stop()
    assert json.loads(got[0])["capacity"] == 40


def test_a_device_cannot_fake_a_branchs_occupancy(broker: LocalBroker, tmp_path: Path) -> None:
    config = tmp_path / "device-as-backoffice.toml"
    config.write_text(
        dump_toml(
            BackofficeConfig(
                broker=broker.client_config("kiosk-32"), database_path=tmp_path / "e.db"
            )
        )
    )
    args = ["occupancy", "--config", str(config), "--branch", "jakarta-salemba"]
    assert main([*args, "--inside", "0", "--capacity", "40"]) == 1


@pytest.mark.parametrize(
    ("inside", "capacity", "said"),
    [("-1", "40", "argument --inside: -1: give 0 to 100000"),
     ("1", "1e3", "argument --capacity: '1e3' is not a whole number"),
     ("1", "200000", "argument --capacity: 200000: give 0 to 100000")],
)  # fmt: skip
def test_a_count_the_message_cannot_carry_is_a_usage_line(
    inside: str, capacity: str, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--inside -1` was 'unexpected error: MessageError: invalid occupancy ...', exit 1."""
    config = tmp_path / "backoffice.toml"
    config.write_text(
        dump_toml(
            BackofficeConfig(
                broker=BrokerConfig(host="127.0.0.1", port=1, tls=False),
                database_path=tmp_path / "e.db",
            )
        )
    )
    args = ["occupancy", "--config", str(config), "--branch", "jakarta-salemba"]
    with pytest.raises(SystemExit) as stopped:
        main([*args, "--inside", inside, "--capacity", capacity])
    assert stopped.value.code == 2 and said in capsys.readouterr().err
    assert main([*args, "--inside", "1", "--capacity", "40"]) == 1  # nothing listens on port 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("backoffice occupancy: cannot reach the broker at 127.0.0.1:1")
