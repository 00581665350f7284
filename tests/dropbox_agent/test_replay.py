"""A dispute: the raw input log, replayed, gives back the deposits and the collection."""

from __future__ import annotations

import os
import queue
import threading
from pathlib import Path

import pytest

from dropbox_agent.__main__ import main
from dropbox_agent.adapters.box_store import SqliteBoxStore
from dropbox_agent.adapters.lines import DeviceLineSource
from dropbox_agent.domain.model import Input
from dropbox_agent.replay import replay
from tests.dropbox_agent.conftest import PIN, make_rig


def test_replaying_the_raw_log_derives_the_same_deposits_and_collection(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    for _ in range(5):
        rig.deposit(hold_s=rig.rng.uniform(0.02, 0.4))
    rig.type_line(PIN)
    rig.drive(Input.DOOR, True)
    rig.advance(0.1)
    rig.type_line("*5#")
    rig.drive(Input.DOOR, False)
    rig.advance(0.1)
    rig.deposit()
    rig.box.chatter(Input.BEAM, True, rig.rng)  # an envelope still in the slot at the end
    rig.agent.pump(0)
    original = [(name, p) for name, p, _ in rig.events.records if name.startswith("dropbox.")]
    rig.agent.close()

    store = SqliteBoxStore(tmp_path / "box.db", boot_id="replay")
    boot, inputs, events = replay(store, rig.config.machine_settings())
    store.close()
    assert boot == "test-boot"
    assert len(inputs) > 30
    replayed = [(e.type, e.payload) for e in events if e.type.startswith("dropbox.")]

    def key(pairs: list[tuple[str, dict[str, object]]]) -> list[tuple[str, object, object]]:
        return [(t, p.get("deposit_no"), p.get("blocked_ms")) for t, p in pairs]

    assert key(replayed) == key(original)


def test_replay_cli_prints_the_derived_events(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rig = make_rig(tmp_path)
    rig.deposit()
    rig.agent.close()
    config_file = tmp_path / "box.toml"
    from configkit import dump_toml

    data = rig.config.model_dump()
    data["collection"] = {"officers": []}  # dump_toml writes no arrays of tables
    config_file.write_text(dump_toml(type(rig.config).model_validate(data)))
    assert main(["replay", "--config", str(config_file), "--raw"]) == 0
    out = capsys.readouterr().out
    assert "boot test-boot:" in out
    assert "out  dropbox.deposit deposit_no=1" in out
    assert " in   Edge(" in out


def test_an_empty_log_cannot_be_replayed(tmp_path: Path) -> None:
    store = SqliteBoxStore(tmp_path / "box.db", boot_id="b")
    with pytest.raises(ValueError, match="empty"):
        replay(store, make_rig(tmp_path / "k").config.machine_settings())
    store.close()


def test_keypad_lines_come_from_the_device_and_it_is_reopened_after_eof(tmp_path: Path) -> None:
    fifo = tmp_path / "ttyACM0"
    os.mkfifo(fifo)
    lines: queue.Queue[str] = queue.Queue()
    source = DeviceLineSource(fifo, retry_s=0.01)
    source.start(lines.put)
    for batch in (["2468\n", "\n", "*3#\n"], ["BK-7QX2M9\n"]):  # two scanner sessions
        with fifo.open("w") as writer:
            writer.writelines(batch)
    got = [lines.get(timeout=10) for _ in range(3)]
    source.close()
    assert got == ["2468\n", "*3#\n", "BK-7QX2M9\n"]
    threading.Thread(target=lambda: fifo.open("w").close(), daemon=True).start()  # unblock open
