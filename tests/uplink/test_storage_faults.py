"""Storage faults on a real full disk: the outbox says so, the uplink's threads survive and
resume by themselves when space returns; systemd notifications never stop a loop."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
from pathlib import Path

import pytest

from backoffice.receiver import Receiver
from tests.conftest import UplinkFactory
from tests.diskfull import small_disk
from uplink import ManualClock, MessageError, Outbox, OutboxFull, StorageError, systemd

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def probe(outbox: Outbox, n: int = 0) -> str:
    return outbox.record("device.probe", {"purpose": "test", "n": n}).event_id


def test_a_full_disk_refuses_critical_events_drops_heartbeats_and_recovers(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        outbox = Outbox(disk.path / "outbox.db", "dropbox-1")
        ids = [probe(outbox, n) for n in range(20)]
        disk.fill()

        # GIVEN a full disk WHEN a critical event comes THEN it is refused loudly
        with pytest.raises(OutboxFull, match="free space on the data partition"):
            probe(outbox, 99)
        assert outbox.storage_full
        # a heartbeat is dropped without "cannot rollback - no transaction is active"
        outbox.record("device.heartbeat", {"uptime_s": 1, "pending": 20})
        assert outbox.telemetry_dropped == 1
        # deleting acked rows needs room too: it fails, and every row stays
        with pytest.raises(StorageError, match="remove acked events"):
            outbox.ack(ids[:5])
        assert outbox.pending() == 20
        assert [r.event_id for r in outbox.after(0, 100)] == ids  # reads still work

        # WHEN space returns THEN the same calls succeed and the fault clears
        disk.free()
        assert outbox.ack(ids[:5]) == 5
        probe(outbox, 100)
        assert not outbox.storage_full
        assert outbox.pending() == 16
        outbox.close()


def test_an_ack_on_a_full_disk_leaves_the_network_thread_running_and_delivery_resumes(
    tmp_path: Path, make_uplink: UplinkFactory, request: pytest.FixtureRequest
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        # GIVEN events waiting while the back office is away, heartbeats on, then a full disk
        uplink = make_uplink(
            "dropbox-3",
            outbox_path=disk.path / "outbox.db",
            heartbeat_interval_s=0.2,
            ack_timeout_s=1,
        )
        ids = [
            uplink.record("device.probe", {"purpose": "test", "n": n}).event_id for n in range(8)
        ]
        disk.fill()

        # WHEN the back office comes and acks: the deletes fail
        receiver: Receiver = request.getfixturevalue("backoffice")
        store = receiver.store
        assert _wait(lambda: set(ids) <= set(store.event_ids()))  # type: ignore[attr-defined]
        assert _wait(lambda: uplink.storage_fault is not None)
        # THEN the uplink is still alive and connected, with every event kept
        assert uplink.alive()
        assert uplink.connected
        assert uplink.outbox.pending() >= 8

        # WHEN space returns THEN the re-sent events are acked again and leave the outbox
        disk.free()
        assert uplink.wait_drained(20) or uplink.outbox.pending() <= 1  # a heartbeat may wait
        assert not any(r.event_id in ids for r in uplink.outbox.after(0, 100))
        assert _wait(lambda: uplink.storage_fault is None)
        uplink.stop()


def test_alive_says_false_while_the_loops_have_not_come_round(tmp_path: Path) -> None:
    from uplink import Uplink, UplinkConfig

    clock = ManualClock()
    config = UplinkConfig.model_validate(
        {
            "device_id": "kiosk-4",
            "broker": {"host": "127.0.0.1", "port": 9, "tls": False, "username": "kiosk-4"},
            "outbox_path": tmp_path / "o.db",
            "heartbeat_interval_s": 0,
            "reconnect_min_s": 0.05,
            "reconnect_max_s": 0.1,
        }
    )
    uplink = Uplink(config, clock=clock)
    assert uplink.alive()  # not started: nothing to watch
    uplink.start()
    try:
        assert _wait(lambda: {"net", "send"} <= set(uplink._due))
        assert uplink.alive()
        # WHEN time passes far beyond what the loops promised THEN the watchdog is not fed
        clock.advance(10_000)
        assert not uplink.alive()
        # and once both loops came round again it is
        assert _wait(uplink.alive)
    finally:
        uplink.stop()


def test_record_with_text_that_is_not_unicode_is_a_message_error(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db", "kiosk-1")
    with pytest.raises(MessageError, match="not valid Unicode"):
        outbox.record("device.probe", {"purpose": "test", "note": "caf\udce9"})
    probe(outbox)  # the sequence is not broken
    assert [json.loads(r.body)["seq"] for r in outbox.after(0, 10)] == [1]


@pytest.mark.parametrize("damage", ["truncated", "garbage", "bad_page"])
def test_an_unusable_outbox_is_moved_aside_loudly_and_a_new_one_serves(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "outbox.db"
    outbox = Outbox(path, "kiosk-1")
    for n in range(200):
        outbox.record("device.probe", {"purpose": "test", "n": n, "note": "x" * 200})
    outbox.close()
    if damage == "truncated":
        path.write_bytes(b"")
    elif damage == "garbage":
        path.write_bytes(b"this is not SQLite" * 300)
    else:  # one page in the middle overwritten
        with path.open("r+b") as f:
            f.seek(4096 * 5)
            f.write(b"\xff" * 4096)

    reopened = Outbox(path, "kiosk-1")

    assert reopened.moved_aside is not None and reopened.moved_aside.exists()
    assert "moved aside" in caplog.text
    rows = reopened.after(0, 10)
    assert [json.loads(r.body)["type"] for r in rows] == ["device.fault"]
    fault = json.loads(rows[0].body)["payload"]
    assert fault["component"] == "outbox" and fault["active"] is True
    probe(reopened)  # it keeps serving
    assert reopened.pending() == 2


def test_a_healthy_outbox_is_not_moved(tmp_path: Path) -> None:
    Outbox(tmp_path / "o.db", "kiosk-1").close()
    outbox = Outbox(tmp_path / "o.db", "kiosk-1")
    assert outbox.moved_aside is None
    assert outbox.pending() == 0


@pytest.mark.parametrize("where", ["a_folder", "dev_null_dir"])
def test_an_outbox_path_that_cannot_be_opened_is_one_storage_error(
    tmp_path: Path, where: str
) -> None:
    path = tmp_path / "outbox.db"
    if where == "a_folder":
        path.mkdir()
    else:
        path = Path("/dev/null/outbox.db")
    with pytest.raises(StorageError, match="outbox"):
        Outbox(path, "kiosk-1")


def test_notify_ignores_a_socket_that_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = tmp_path / "notify"
    monkeypatch.setenv("NOTIFY_SOCKET", str(address))
    assert systemd.notify_watchdog() is False  # no socket there: ignored like sd_notify()

    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(address))
    try:
        assert systemd.notify_watchdog() is True
        assert server.recv(64) == b"WATCHDOG=1"
    finally:
        server.close()
    address.unlink()
    assert systemd.notify_ready() is False  # gone again: still no exception


def _wait(condition: object, timeout: float = 10.0) -> bool:
    done = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if condition():  # type: ignore[operator]
            return True
        done.wait(0.05)
    return bool(condition())  # type: ignore[operator]


def test_sqlite_full_code_is_what_the_outbox_sees() -> None:
    # The outbox tells "full" from other failures by SQLite's primary result code.
    assert sqlite3.SQLITE_FULL == 13
