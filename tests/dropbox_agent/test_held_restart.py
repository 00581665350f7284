"""Deposits held on a full disk survive a killed agent and a restart on the still-full disk:
each is stored once, with its first time, once there is room; no slip before its event.

Real parts: a 3 MiB tmpfs for the data partition (root; skipped with the reason otherwise), the
agent in its own process as `app.build` wires it (outbox, box store, held-events journal),
SIGKILL. Simulated: the pins and the slip printer (which logs what was stored when it printed).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pytest

from configkit import dump_toml
from dropbox_agent import held
from dropbox_agent.adapters.held_journal import SLOT_BYTES, SLOTS, HeldJournal
from dropbox_agent.ports import HeldEvent
from tests.diskfull import small_disk
from tests.dropbox_agent.conftest import make_config
from uplink import Outbox

START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # the first run; the second starts an hour on
ROOT = Path(__file__).resolve().parents[2]


class Child:
    """One agent process (`tests/dropbox_agent/held_child.py`) and its line protocol."""

    def __init__(self, config: Path, start: datetime, slip_log: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.dropbox_agent.held_child", str(config),
             start.isoformat(), str(slip_log)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "GPIOZERO_PIN_FACTORY": "mock"},
        )  # fmt: skip
        self.started = self.answer()

    def answer(self) -> dict[str, Any]:
        stdout: IO[str] | None = self.process.stdout
        assert stdout is not None
        line = stdout.readline()
        if not line:
            err = self.process.stderr.read() if self.process.stderr else ""
            pytest.fail(f"the agent stopped: {err[-2000:]}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def send(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.answer()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.communicate(timeout=30)

    def stop(self) -> str:
        _, err = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, err[-2000:]
        return err


def wait_for_slips(log: Path, count: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if log.exists() and len(log.read_text().splitlines()) >= count:
            return
        time.sleep(0.05)
    pytest.fail(f"fewer than {count} slips printed in 30 s")


def test_held_deposits_survive_a_kill_and_a_restart_while_the_disk_stays_full(
    tmp_path: Path,
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        config = make_config(
            disk.path,
            fill={"enabled": False},
            uv={"enabled": False},
            printer={"enabled": True, "transport": "simulated"},
        )
        config_file = tmp_path / "dropbox.toml"  # config and slip log on a disk with room
        config_file.write_text(dump_toml(config), encoding="utf-8")
        slips = tmp_path / "slips.jsonl"

        # GIVEN an agent that stored two deposits WHEN the disk fills and three more come
        first = Child(config_file, START, slips)
        for _ in range(2):
            assert first.send("deposit")["held"] == 0
        wait_for_slips(slips, 2)  # printed by the printer's thread, not before the kill
        disk.fill()
        for _ in range(3):
            first.send("deposit")
        state = first.send("advance 0.1")
        assert state["counted"] == 5 and state["held"] >= 3
        # THEN they are held, said, and (WHEN the box is killed) not lost
        assert held.STORAGE_ALERT in state["alerts"]
        first.kill()

        # WHEN it restarts on the still-full disk THEN it starts and serves in storage-full mode
        second = Child(config_file, START + timedelta(hours=1), slips)
        assert second.started["counted"] == 5, second.started  # no number used twice
        assert second.started["held"] >= 3
        assert held.STORAGE_ALERT in second.started["alerts"]
        for _ in range(2):
            second.send("deposit")
        state = second.send(f"advance {held.HOLD_RETRY_S + 0.1}")
        assert state["counted"] == 7 and held.STORAGE_ALERT in state["alerts"]

        # WHEN space returns THEN everything held is stored, and a new deposit gets its slip
        disk.free()
        state = second.send(f"advance {held.HOLD_RETRY_S + 0.1}")
        assert state["held"] == 0 and held.STORAGE_ALERT not in state["alerts"]
        assert second.send("deposit")["counted"] == 8
        second.stop()

        outbox = Outbox(config.uplink.outbox_path, config.uplink.device_id)
        bodies = [json.loads(row.body) for row in outbox.after(0, 100_000)]
        outbox.close()
    deposits = [b for b in bodies if b["type"] == "dropbox.deposit"]
    numbers = [b["payload"]["deposit_no"] for b in deposits]
    assert sorted(numbers) == list(range(1, 9)), numbers  # every deposit, each once
    times = {b["payload"]["deposit_no"]: b["occurred_at"] for b in deposits}
    first_run = START.isoformat().replace("+00:00", "")
    second_run = (START + timedelta(hours=1)).isoformat().replace("+00:00", "")
    assert all(times[n] < second_run for n in (1, 2, 3, 4, 5)), times  # their first times
    assert all(first_run < times[n] for n in times)
    assert all(second_run < times[n] for n in (6, 7, 8)), times
    assert [times[n] for n in range(1, 9)] == sorted(times[n] for n in range(1, 9))
    printed = [json.loads(line) for line in slips.read_text().splitlines()]
    assert all(slip["stored"] for slip in printed), printed  # never a slip before its event
    assert [slip["deposit_no"] for slip in printed] == [1, 2, 8]  # none for a held deposit


def test_a_held_deposit_stored_just_before_a_kill_is_stored_once_with_its_id(
    tmp_path: Path,
) -> None:
    """GIVEN a deposit held on a full disk (its event id fixed in its journal slot)
    WHEN space returns and the agent is SIGKILLed right after the outbox stored it, before its
    slot is cleared, and then restarts
    THEN the restart stores it again under the same id: one stored event, the id of the slot."""
    with small_disk(tmp_path / "disk") as disk:
        config = make_config(disk.path, fill={"enabled": False}, uv={"enabled": False})
        config_file = tmp_path / "dropbox.toml"
        config_file.write_text(dump_toml(config), encoding="utf-8")
        slips = tmp_path / "slips.jsonl"
        first = Child(config_file, START, slips)
        assert first.send("deposit")["held"] == 0
        disk.fill()
        state = first.send("deposit")
        assert state["counted"] == 2 and state["held"] >= 1
        journal = config.local_db_path.with_name(config.local_db_path.name + ".held")
        first.send("kill-after-store dropbox.deposit")
        disk.free()
        assert first.process.stdin is not None
        first.process.stdin.write(f"advance {held.HOLD_RETRY_S + 0.1}\n")
        first.process.stdin.flush()
        first.process.communicate(timeout=60)
        assert first.process.returncode == -signal.SIGKILL  # killed at the hook, nowhere else

        def deposits() -> list[dict[str, Any]]:
            outbox = Outbox(config.uplink.outbox_path, config.uplink.device_id)
            bodies = [json.loads(row.body) for row in outbox.after(0, 100_000)]
            outbox.close()
            return [b for b in bodies if b["type"] == "dropbox.deposit"]

        [stored] = [d for d in deposits() if d["payload"]["deposit_no"] == 2]
        kept = HeldJournal(journal)  # the slot still holds it: the kill came before clearing
        [in_slot] = [e for e in kept.load() if e.type == "dropbox.deposit"]
        kept.close()
        assert in_slot.payload["deposit_no"] == 2 and in_slot.event_id == stored["event_id"]

        second = Child(config_file, START + timedelta(hours=1), slips)
        assert second.started["counted"] == 2  # no number used twice
        state = second.send(f"advance {held.HOLD_RETRY_S + 0.1}")
        assert state["held"] == 0 and held.STORAGE_ALERT not in state["alerts"]
        second.stop()
        after = deposits()
    assert [d["payload"]["deposit_no"] for d in after] == [1, 2], after  # each once
    assert after[1]["event_id"] == stored["event_id"]  # the id it was held with
    assert after[1]["occurred_at"] == stored["occurred_at"]


def test_without_a_journal_held_deposits_are_said_to_be_in_memory_only(tmp_path: Path) -> None:
    """GIVEN a box whose journal could not be allocated (started on a disk already full)
    WHEN a deposit is held THEN its state says the held deposits are in memory only (lost if the
    box stops), beside storage full; WHEN space returns THEN it is stored, the alert goes, and
    the journal is allocated then (a later full disk is survived again)."""
    with small_disk(tmp_path / "disk") as disk:
        config = make_config(disk.path, fill={"enabled": False}, uv={"enabled": False})
        config_file = tmp_path / "dropbox.toml"
        config_file.write_text(dump_toml(config), encoding="utf-8")
        slips = tmp_path / "slips.jsonl"
        journal = config.local_db_path.with_name(config.local_db_path.name + ".held")
        made = Child(config_file, START, slips)  # the outbox and the box's database exist
        made.kill()  # (killed: a clean stop removes SQLite's WAL, which a full disk cannot make)
        journal.unlink()  # as a box installed before the journal, or one whose start was full
        disk.fill()
        child = Child(config_file, START + timedelta(minutes=1), slips)
        assert held.MEMORY_ONLY_ALERT not in child.started["alerts"]  # nothing held yet
        state = child.send("deposit")
        assert state["held"] >= 1
        assert held.STORAGE_ALERT in state["alerts"]
        assert held.MEMORY_ONLY_ALERT in state["alerts"]
        disk.free()
        state = child.send(f"advance {held.HOLD_RETRY_S + 0.1}")
        assert state["held"] == 0
        assert held.MEMORY_ONLY_ALERT not in state["alerts"]
        child.stop()
        assert os.stat(journal).st_blocks * 512 >= SLOT_BYTES * SLOTS


def test_the_journal_is_allocated_once_and_rewritten_in_place(tmp_path: Path) -> None:
    """GIVEN a journal allocated while there was room WHEN the disk is full THEN holding and
    clearing events still works (no new block), and a reopened journal gives them back in order;
    a slot torn by a stop mid-write is skipped, not misread."""
    with small_disk(tmp_path / "disk", size="1m") as disk:
        journal = HeldJournal(disk.path / "box.db.held")
        assert os.stat(journal.path).st_blocks * 512 >= SLOT_BYTES * SLOTS
        disk.fill()
        wall = START
        events = [
            HeldEvent(
                "dropbox.deposit", {"deposit_no": n}, wall + timedelta(seconds=n), f"{n:026d}"
            )
            for n in (1, 2, 3)
        ]
        journal.save(events[:2])
        journal.save(events)
        journal.save(events[1:])  # the first was stored
        journal.close()
        reopened = HeldJournal(disk.path / "box.db.held")
        assert reopened.load() == events[1:]
        with open(reopened.path, "r+b") as raw:  # a stop in the middle of writing slot 3
            raw.seek(3 * SLOT_BYTES + 30)
            raw.write(b"\xff\xff")
        reopened.close()
        assert HeldJournal(disk.path / "box.db.held").load() == events[1:2]
