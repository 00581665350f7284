"""The rendered broker config, run for real: TLS devices with their rendered credentials, the ACL,
the CRL, and the branch-to-central bridge."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

from provisioning import device, pki, render, roles
from provisioning.__main__ import main
from provisioning.broker import free_port
from uplink import BrokerConfig, topics

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
NOT_AUTHORIZED = 135
NO_MATCHING_SUBSCRIBERS = 16
ALL_ACKS = "lapak/v1/dev/+/ack"


@pytest.fixture
def base() -> Iterator[Path]:
    """A directory the `mosquitto` user can traverse once the broker has dropped root."""
    directory = Path(tempfile.mkdtemp(prefix="lapak-broker-test-"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Broker:
    """A mosquitto started from a rendered root."""

    root: Path
    port: int
    ca: pki.CADirectory
    options: dict[str, Any]
    process: subprocess.Popen[bytes] | None = None

    def render(self) -> None:
        """Render as `provision render --role broker --ca DIR` does: the CA's names admitted."""
        target = render.Target(self.root, local=True)
        names = {r.name for r in self.ca.records() if r.kind == "client" and r.active}
        settings = render.RenderOptions(
            tls_port=self.port, bind_address="127.0.0.1", identities=tuple(names), **self.options
        )
        changes = render.apply(render.plan("broker", target, settings), target)
        assert not [c for c in changes if c.missing], [c.missing for c in changes]

    def start(self) -> None:
        assert Path(MOSQUITTO).exists(), "mosquitto is needed: apt-get install mosquitto"
        self.render()  # devices provisioned since are admitted, as after a re-render + restart
        config = self.root / "etc/mosquitto/mosquitto.conf"
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                pytest.fail(f"mosquitto exited with the rendered config: {err}\n{self.log()}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.02)  # waiting for a process to open its port, not timing a result
        pytest.fail(f"mosquitto did not listen on {self.port}: {self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(10)
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def log(self) -> str:
        path = self.root / "var/log/mosquitto/mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else "(no log)"


def _render_broker(
    base: Path, name: str, ca: pki.CADirectory, **options: Any
) -> tuple[Broker, render.Target]:
    root = base / name
    target = render.Target(root, local=True)
    render.install_broker_identity(target, ca, [f"{name}.test", "127.0.0.1"])
    broker = Broker(root, free_port(), ca, options)
    broker.render()
    return broker, target


@contextmanager
def running(broker: Broker) -> Iterator[Broker]:
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def _provision(base: Path, ca: Path, device_id: str, port: int) -> BrokerConfig:
    """`provision device init` a dropbox, then read back its rendered broker settings."""
    args = ["device", "init", "--role", "dropbox", "--branch", "jkt-01", "--id", device_id]
    args += ["--root", str(base / device_id), "--ca", str(ca)]
    args += ["--broker-host", "127.0.0.1", "--broker-port", str(port)]
    assert main(args) == 0
    record = device.load_record(device.Layout(base / device_id))
    return roles.uplink_of(roles.load_config(record)).broker


def _identity(ca: pki.CADirectory, directory: Path, name: str, port: int) -> BrokerConfig:
    """A back-office identity: key made here, CSR signed by the fleet CA."""
    key = pki.new_key()
    cert = ca.issue(pki.make_csr(key, name))
    pki.write_key(directory / f"{name}.key", key)
    pki.write_cert(directory / f"{name}.crt", cert)
    return BrokerConfig(
        host="127.0.0.1",
        port=port,
        tls=True,
        ca_file=ca.cert_file,
        cert_file=directory / f"{name}.crt",
        key_file=directory / f"{name}.key",
    )


class Client:
    """A paho MQTT v5 client over TLS that records PUBACK reason codes and messages."""

    def __init__(self, name: str, broker: BrokerConfig) -> None:
        self.acks: queue.Queue[int] = queue.Queue()
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.connected: queue.Queue[int] = queue.Queue()
        self.subscribed: queue.Queue[int] = queue.Queue()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=name, protocol=MQTTProtocolVersion.MQTTv5
        )
        self.client.tls_set(
            ca_certs=str(broker.ca_file),
            certfile=str(broker.cert_file),
            keyfile=str(broker.key_file),
        )
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = self._on_disconnect
        self.broker = broker

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        self.connected.put(reason.value)

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        self.connected.put(-1)  # before a CONNACK: the broker dropped us (TLS refused)

    def _on_publish(self, _c: Any, _u: Any, _mid: int, reason: ReasonCode, _p: Any) -> None:
        self.acks.put(reason.value)

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        self.messages.put((message.topic, bytes(message.payload)))

    def _on_subscribe(self, _c: Any, _u: Any, _mid: int, codes: list[ReasonCode], _p: Any) -> None:
        self.subscribed.put(codes[0].value)

    def connect(self) -> int:
        """The CONNACK reason code; -1 when the connection was dropped or refused before it."""
        try:
            self.client.connect(self.broker.host, self.broker.port)
        except OSError:  # ssl.SSLError too: the handshake failed outright
            return -1
        self.client.loop_start()
        return self.connected.get(timeout=10)

    def publish(self, topic: str, payload: bytes) -> int:
        self.client.publish(topic, payload, qos=1)
        return self.acks.get(timeout=10)

    def subscribe(self, topic: str) -> int:
        self.client.subscribe(topic, qos=1)
        return self.subscribed.get(timeout=10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextmanager
def connected(name: str, broker: BrokerConfig) -> Iterator[Client]:
    client = Client(name, broker)
    assert client.connect() == 0, f"{name} was refused"
    try:
        yield client
    finally:
        client.close()


def test_devices_connect_with_their_rendered_credentials_and_the_acl_keeps_them_apart(
    base: Path,
) -> None:
    ca = pki.CADirectory.init(base / "ca", "Test fleet CA")
    broker, _target = _render_broker(base, "broker", ca)
    kiosk_side = _provision(base, base / "ca", "dropbox-1", broker.port)
    other_side = _provision(base, base / "ca", "dropbox-2", broker.port)
    office = _identity(ca, base, "backoffice", broker.port)

    with running(broker), connected("backoffice", office) as back:
        assert back.subscribe(topics.all_events(None)) == 1
        with connected("dropbox-1", kiosk_side) as one, connected("dropbox-2", other_side):
            # Subscriptions are checked when they are made: only its own acks and occupancy.
            granted = {
                topic: one.subscribe(topic)
                for topic in (topics.occupancy("jkt-01"), topics.ack("dropbox-2"), ALL_ACKS)
            }
            assert one.subscribe(topics.ack("dropbox-1")) == 1
            own = one.publish(topics.events("dropbox-1"), b"mine")
            forged = one.publish(topics.events("dropbox-2"), b"forged")
            forged_ack = one.publish(topics.ack("dropbox-1"), b"forged ack")
            # In order from one publisher: whatever dropbox-1 may read arrives before its own ack.
            back.publish(topics.occupancy("jkt-01"), b"12 inside")
            back.publish(topics.ack("dropbox-2"), b"not yours")
            back.publish(topics.ack("dropbox-1"), b"yours")
            received = [one.messages.get(timeout=10), one.messages.get(timeout=10)]

        assert granted == {
            topics.occupancy("jkt-01"): 1,
            topics.ack("dropbox-2"): NOT_AUTHORIZED,
            ALL_ACKS: NOT_AUTHORIZED,
        }
        assert own in (0, NO_MATCHING_SUBSCRIBERS)
        assert forged == NOT_AUTHORIZED
        assert forged_ack == NOT_AUTHORIZED  # only the back office acks
        assert back.messages.get(timeout=10) == (topics.events("dropbox-1"), b"mine")
        assert back.messages.empty()
        assert received == [
            (topics.occupancy("jkt-01"), b"12 inside"),  # every device reads occupancy
            (topics.ack("dropbox-1"), b"yours"),  # and its own acks, never another's
        ]
    log = broker.log()
    assert "dropbox-1" in log
    # (An OpenSSL error is the start-up probe of the port closing without a handshake.)
    warnings = [
        line
        for line in log.splitlines()
        if ("Warning" in line or "Error" in line) and "OpenSSL" not in line
    ]
    assert not warnings, log


def test_the_broker_refuses_a_revoked_device_and_an_unknown_ca(base: Path) -> None:
    ca = pki.CADirectory.init(base / "ca", "Test fleet CA")
    broker, target = _render_broker(base, "broker", ca)
    device_side = _provision(base, base / "ca", "dropbox-1", broker.port)
    stranger_ca = pki.CADirectory.init(base / "other-ca", "Someone else's CA")
    stranger = _identity(stranger_ca, base, "dropbox-3", broker.port)
    stranger = stranger.model_copy(update={"ca_file": ca.cert_file})

    with running(broker), connected("dropbox-1", device_side):
        pass  # accepted before it is revoked

    ca.revoke(name="dropbox-1", reason="key_compromise")
    render.install_broker_identity(target, ca, ["broker.test", "127.0.0.1"])  # new CRL

    with running(broker):
        for name, side in (("dropbox-1", device_side), ("dropbox-3", stranger)):
            client = Client(name, side)
            assert client.connect() == -1, f"{name} was let in"
            client.close()


def test_a_branch_broker_bridges_device_events_to_the_central_one_and_acks_back(
    base: Path,
) -> None:
    ca = pki.CADirectory.init(base / "ca", "Test fleet CA")
    central, _ = _render_broker(base, "central", ca, bridge_branches=("jkt-01",))
    branch_root = base / "branch"
    bridge_dir = render.Target(branch_root, local=True).host(render.BROKER_PKI)
    key = pki.new_key()
    pki.write_key(bridge_dir / "bridge.key", key)
    pki.write_cert(bridge_dir / "bridge.crt", ca.issue(pki.make_csr(key, "bridge-jkt-01")))
    branch, _ = _render_broker(
        base, "branch", ca, branch="jkt-01", central_host="127.0.0.1", central_port=central.port
    )
    if os.geteuid() == 0:
        shutil.chown(bridge_dir / "bridge.key", group="mosquitto")
        (bridge_dir / "bridge.key").chmod(0o640)
    device_side = _provision(base, base / "ca", "dropbox-1", branch.port)
    office = _identity(ca, base, "backoffice", central.port)

    with running(central), connected("backoffice", office) as back:
        assert back.subscribe(topics.all_events(None)) == 1
        with running(branch), connected("dropbox-1", device_side) as box:
            assert box.subscribe(topics.ack("dropbox-1")) == 1
            # The bridge connects in the background; a message before that is queued by it.
            assert box.publish(topics.events("dropbox-1"), b"deposit") in (0, 16)
            assert back.messages.get(timeout=15) == (topics.events("dropbox-1"), b"deposit")
            assert back.publish(topics.ack("dropbox-1"), b"ack") in (0, 16)
            assert box.messages.get(timeout=15) == (topics.ack("dropbox-1"), b"ack")
