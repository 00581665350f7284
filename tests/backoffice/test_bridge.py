"""A branch broker bridged to head office, as provisioning renders both: devices on the branch,
the receiver on the central broker; the link is cut for a while and restored; nothing is lost and
the acks come back through the bridge."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

from backoffice.config import BackofficeConfig
from backoffice.receiver import Receiver
from backoffice.store import SqliteEventStore
from provisioning import pki, render
from provisioning.broker import free_port
from tests.firmware_config.test_broker import _identity, _provision, _render_broker, base, running
from uplink import Uplink, UplinkConfig

__all__ = ["base"]  # the fixture, imported so pytest finds it here

EVENTS_BEFORE = 30
EVENTS_DURING_CUT = 60


class Link:
    """A TCP relay standing for the branch's WAN line: `cut()` drops every connection and
    refuses new ones until `restore()`."""

    def __init__(self, upstream_port: int) -> None:
        self.port = free_port()
        self._upstream = upstream_port
        self._up = threading.Event()
        self._up.set()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._server.settimeout(0.2)
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        self._up.clear()
        with self._lock:
            for sock in self._sockets:
                _close(sock)
            self._sockets.clear()

    def restore(self) -> None:
        self._up.set()

    def close(self) -> None:
        self._closed.set()
        self.cut()
        self._server.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            if not self._up.is_set():
                _close(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self._upstream), timeout=5)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    _close(source)
    _close(sink)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def test_events_cross_the_bridge_through_a_cut_and_acks_come_back(
    base: Path, tmp_path: Path
) -> None:
    ca = pki.CADirectory.init(base / "ca", "Test fleet CA")
    central, _ = _render_broker(base, "central", ca, bridge_branches=("jkt-01",))
    wan = Link(central.port)
    bridge_dir = render.Target(base / "branch", local=True).host(render.BROKER_PKI)
    key = pki.new_key()
    pki.write_key(bridge_dir / "bridge.key", key)
    pki.write_cert(bridge_dir / "bridge.crt", ca.issue(pki.make_csr(key, "bridge-jkt-01")))
    branch, _ = _render_broker(
        base, "branch", ca, branch="jkt-01", central_host="127.0.0.1", central_port=wan.port
    )
    if os.geteuid() == 0:
        shutil.chown(bridge_dir / "bridge.key", group="mosquitto")
        (bridge_dir / "bridge.key").chmod(0o640)
    devices = ["dropbox-1", "dropbox-2"]
    sides = {d: _provision(base, base / "ca", d, branch.port) for d in devices}
    office = _identity(ca, base, "backoffice", central.port)

    store = SqliteEventStore(tmp_path / "central.db")
    receiver = Receiver(BackofficeConfig(broker=office, database_path=store.path), store)

    def uplink_of(device_id: str) -> Uplink:
        return Uplink(
            UplinkConfig(
                device_id=device_id,
                broker=sides[device_id],
                outbox_path=tmp_path / f"{device_id}.db",
                ack_timeout_s=1.0,
                reconnect_min_s=0.05,
                reconnect_max_s=0.5,
                heartbeat_interval_s=0,
            )
        )

    uplinks = [uplink_of(d) for d in devices]
    recorded: list[str] = []

    def record(count: int) -> None:
        for n in range(count):
            for uplink in uplinks:
                recorded.append(uplink.record("device.probe", {"purpose": "test", "n": n}).event_id)

    before = EVENTS_BEFORE * len(devices)
    total = (EVENTS_BEFORE + EVENTS_DURING_CUT) * len(devices)
    with running(central), running(branch):
        receiver.start()
        assert receiver.wait_ready(10)
        for uplink in uplinks:
            uplink.start()
        try:
            record(EVENTS_BEFORE)
            for uplink in uplinks:
                assert uplink.wait_drained(30), "acks did not come back over the bridge"
            assert store.count() == before

            wan.cut()
            record(EVENTS_DURING_CUT)
            time.sleep(1.5)  # the branch broker takes them; the bridge cannot pass them on
            assert all(u.pending() == EVENTS_DURING_CUT for u in uplinks), "acked during the cut"
            assert store.count() == before, "the link was not cut"
            # The devices go quiet (power saving, a reboot): what crosses now is what the branch
            # broker kept for the bridge, nothing re-sent.
            for uplink in uplinks:
                uplink.stop()
            wan.restore()  # the bridge reconnects by itself (restart_timeout)
            deadline = time.monotonic() + 60
            while store.count() < total and time.monotonic() < deadline:
                time.sleep(0.05)  # waiting for the bridge, not timing it
            assert store.count() == total, "the branch broker did not keep the bridge's queue"

            # Back on, each device gets its acks (the ones queued for it, or on re-sending).
            uplinks = [uplink_of(d) for d in devices]
            for uplink in uplinks:
                uplink.start()
            for uplink in uplinks:
                assert uplink.wait_drained(30), f"{uplink.config.device_id}: not all acked"
        finally:
            for uplink in uplinks:
                uplink.stop()
            receiver.stop()
            wan.close()
    stored = store.event_ids("device.probe")
    store.close()
    assert len(recorded) == total
    assert sorted(stored) == sorted(recorded), "an event lost or stored twice"
