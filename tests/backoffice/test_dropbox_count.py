"""`backoffice collection-count`: the officer's count reaches the box, and only the back office
may send it."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from paho.mqtt.client import MQTTMessage

from backoffice.__main__ import main
from backoffice.config import BackofficeConfig
from backoffice.dropbox_count import COMMAND, CountAnswer, count_command, parse_answer
from branchsim.broker import LocalBroker
from configkit import dump_toml
from uplink import topics
from uplink.errors import MessageError
from uplink.ids import new_event_id
from uplink.messages import Envelope
from uplink.session import make_client


def config_as(broker: LocalBroker, identity: str, tmp_path: Path) -> str:
    path = tmp_path / f"{identity}.toml"
    config = BackofficeConfig(
        broker=broker.client_config(identity), database_path=tmp_path / "e.db"
    )
    path.write_text(dump_toml(config), encoding="utf-8")
    return str(path)


def test_the_count_reaches_the_box_and_its_answer_comes_back(
    broker: LocalBroker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a box (a bare client with a dropbox's certificate) that answers counts
    WHEN the officer sends one
    THEN the box gets the command body, and the command prints the box's answer, ignoring
    events that are not an answer to it (another collection, garbage, markup)."""
    got: list[bytes] = []
    subscribed = threading.Event()
    box = make_client("dropbox-41", broker.client_config("dropbox-41"))
    box.on_socket_register_write = None
    box.on_subscribe = lambda *_: subscribed.set()

    def answer(payload: dict[str, object], seq: int) -> bytes:
        return Envelope(
            new_event_id(),
            "dropbox-41",
            seq,
            "dropbox.collection_mismatch",
            1,
            "2026-11-30T10:00:00.000Z",
            True,
            payload,
        ).to_json()

    def on_message(_c: object, _u: object, message: MQTTMessage) -> None:
        got.append(message.payload)
        base = {"box_id": "dropbox-41", "officer_id": "ofc-1", "deposits_logged": 7}
        base |= {"source": "backoffice", "difference": -1}
        for raw in (
            b"[/] not json",
            answer({**base, "collection_id": "c-8", "counted": 6}, 1),
            answer({**base, "collection_id": "c-7", "counted": 6}, 2),
        ):
            box.publish(topics.events("dropbox-41"), raw, qos=1)

    box.on_message = on_message
    box.connect("127.0.0.1", broker.tls_port)
    box.subscribe(topics.command("dropbox-41", COMMAND), qos=1)
    box.loop_start()
    try:
        assert subscribed.wait(10)
        args = ["--device", "dropbox-41", "--collection", "c-7", "--counted", "6"]
        config = config_as(broker, "backoffice", tmp_path)
        assert main(["collection-count", "--config", config, *args]) == 0
    finally:
        box.disconnect()
        box.loop_stop()
    assert json.loads(got[0]) == {"collection_id": "c-7", "counted": 6}
    out = capsys.readouterr().out
    assert "dropbox-41 took the count: collection c-7, 6 counted, but 7 deposits" in out
    assert "MISMATCH" in out


def test_a_device_cannot_send_it_and_bad_counts_are_refused(
    broker: LocalBroker, tmp_path: Path
) -> None:
    args = ["--device", "dropbox-41", "--collection", "c-7", "--counted", "6"]
    config = config_as(broker, "kiosk-41", tmp_path)
    assert main(["collection-count", "--config", config, *args]) == 1
    with pytest.raises(MessageError, match="counted"):
        count_command("c-7", -1)
    for bad in (["--counted", "-1"], ["--counted", "6", "--timeout-s", "nan"]):
        with pytest.raises(SystemExit) as stopped:  # a usage line, not 'invalid command'
            main(["collection-count", "--config", config, *args[:4], *bad])
        assert stopped.value.code == 2


def test_a_count_for_a_collection_the_box_lacks_is_refused_by_the_box(
    broker: LocalBroker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 15: `collection-count --collection nope` answered "sent", exit 0. GIVEN a running
    simulated dropbox (the shipped example) WHEN the officer's count names a collection it does
    not have THEN the box refuses it and the command says so with the fix, exit 1; a box that
    is not there at all gets "no answer", exit 3."""
    from branchsim.branch import dropbox_setup
    from dropbox_agent.sim.runner import SimulatedBoxKit
    from uplink import SimulatedClock

    config = dropbox_setup(tmp_path, broker)
    device = config.uplink.device_id
    clock = SimulatedClock(datetime(2026, 6, 15, 10, 0, tzinfo=UTC), 1.0)
    agent = SimulatedBoxKit(config, clock=clock, slips_dir=tmp_path / "slips").agent
    stop = threading.Event()
    box = threading.Thread(target=agent.run, args=(stop,))
    box.start()
    office = config_as(broker, "backoffice", tmp_path)
    try:
        for _ in range(100):  # until the box's uplink has subscribed to its commands
            if agent.uplink is not None and agent.uplink.connected:
                break
            stop.wait(0.1)
        args = ["--device", device, "--collection", "nope", "--counted", "3"]
        assert main(["collection-count", "--config", office, *args, "--timeout-s", "20"]) == 1
    finally:
        stop.set()
        box.join(20)
    out = capsys.readouterr().out
    assert f"{device} refused: collection nope" in out and "no such collection" in out
    absent = ["--device", "jakarta-salemba-dropbox-9", "--collection", "x-c1", "--counted", "1"]
    assert main(["collection-count", "--config", office, *absent, "--timeout-s", "1"]) == 3
    assert "did not answer within 1 s" in capsys.readouterr().out


def test_an_answer_inside_a_batch_is_found_past_other_and_invalid_events() -> None:
    """A box draining a backlog sends its events in batches (uplink.batches): the answer may be
    any item of one, next to other events and items that are no envelope."""
    base = {"box_id": "dropbox-41", "officer_id": "ofc-1", "deposits_logged": 7}
    base |= {"source": "backoffice", "difference": 1, "collection_id": "c-7", "counted": 8}

    def event(seq: int, payload: dict[str, object]) -> dict[str, object]:
        envelope = Envelope(
            new_event_id(),
            "dropbox-41",
            seq,
            "dropbox.collection_mismatch",
            1,
            "2026-11-30T10:00:00.000Z",
            True,
            payload,
        )
        return dict(json.loads(envelope.to_json()))

    other = event(1, {**base, "collection_id": "c-6"})
    batch = json.dumps([other, {"not": "an envelope"}, event(2, base)]).encode()
    assert parse_answer(batch, "c-7", 8) == CountAnswer("mismatch", 7)
    assert parse_answer(json.dumps([other]).encode(), "c-7", 8) is None
    assert parse_answer(b"[" + b"{}," * 200 + b"{}]", "c-7", 8) is None  # over the batch bound
