"""A fleet broker rendered as `provision render --role broker --ca DIR` renders it, devices
provisioned with `provision device init`, and raw MQTT clients an attacker would use."""

from __future__ import annotations

import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from provisioning import device, pki, render, roles
from provisioning.__main__ import main
from provisioning.broker import free_port
from uplink import BrokerConfig

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
NOT_AUTHORIZED = 135
BRANCH = "jkt-01"
# Provisioned before the broker is rendered: the broker admits the CA's active identities.
DEVICES = ("kiosk-1", "kiosk-2", "dropbox-1", "dropbox-2")


@dataclass
class Fleet:
    """One CA, one central broker rendered from it, and the identities the CA issued."""

    base: Path
    ca: pki.CADirectory
    port: int
    root: Path
    identities: dict[str, BrokerConfig] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def provision(self, device_id: str, role: str = "dropbox") -> int:
        """`provision device init` as a technician runs it; returns the exit code."""
        args = ["device", "init", "--role", role, "--branch", BRANCH, "--id", device_id]
        args += ["--root", str(self.base / "devices" / device_id), "--ca", str(self.base / "ca")]
        args += ["--broker-host", "127.0.0.1", "--broker-port", str(self.port)]
        code = main(args)
        if code == 0:
            record = device.load_record(device.Layout(self.base / "devices" / device_id))
            self.identities[device_id] = roles.uplink_of(roles.load_config(record)).broker
        return code

    def issue(self, name: str) -> BrokerConfig:
        """A certificate for `name` signed by the fleet CA (back office, bridge, operator)."""
        key = pki.new_key()
        cert = self.ca.issue(pki.make_csr(key, name))
        pki.write_key(self.base / f"{name}.key", key)
        pki.write_cert(self.base / f"{name}.crt", cert)
        self.identities[name] = BrokerConfig(
            host="127.0.0.1",
            port=self.port,
            tls=True,
            ca_file=self.ca.cert_file,
            cert_file=self.base / f"{name}.crt",
            key_file=self.base / f"{name}.key",
        )
        return self.identities[name]

    def render(self) -> None:
        target = render.Target(self.root, local=True)
        render.install_broker_identity(target, self.ca, ["broker.test", "127.0.0.1"])
        admitted = {r.name for r in self.ca.records() if r.kind == "client" and r.active}
        options = render.RenderOptions(
            tls_port=self.port,
            bind_address="127.0.0.1",
            identities=tuple(sorted(admitted)),
            bridge_branches=(BRANCH,),
        )
        changes = render.apply(render.plan("broker", target, options), target)
        assert not [c for c in changes if c.missing], [c.missing for c in changes]

    def start(self) -> None:
        assert Path(MOSQUITTO).exists(), "mosquitto is needed: apt-get install mosquitto"
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

    def rss_kib(self) -> int:
        """The broker's resident memory, from /proc."""
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
        return int(line.split()[1])


@pytest.fixture(scope="package")
def fleet() -> Iterator[Fleet]:
    """A running central broker rendered from the fleet CA, with DEVICES provisioned."""
    base = Path(tempfile.mkdtemp(prefix="lapak-security-"))
    base.chmod(0o755)  # the `mosquitto` user traverses it once the broker has dropped root
    ca = pki.CADirectory.init(base / "ca", "Test fleet CA")
    instance = Fleet(base, ca, free_port(), base / "broker")
    for device_id in DEVICES:
        assert instance.provision(device_id) == 0  # a dropbox needs no booking keys
    for name in ("backoffice", "backoffice-rx-2", f"bridge-{BRANCH}", "operator-1"):
        instance.issue(name)
    instance.render()
    instance.start()
    yield instance
    instance.stop()
    shutil.rmtree(base, ignore_errors=True)


class Client:
    """A raw paho MQTT v5 client over TLS (what an attacker with a certificate would run)."""

    def __init__(self, broker: BrokerConfig, client_id: str) -> None:
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.connacks: queue.Queue[int] = queue.Queue()
        self.disconnects: queue.Queue[int] = queue.Queue()
        self.acks: queue.Queue[int] = queue.Queue()
        self.subacks: queue.Queue[int] = queue.Queue()
        self.assigned_id: str | None = None
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
        )
        self.client.tls_set(
            ca_certs=str(broker.ca_file),
            certfile=str(broker.cert_file),
            keyfile=str(broker.key_file),
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self.broker = broker

    def connect(self, *, clean_start: bool = True, session_expiry_s: int = 0) -> int:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = session_expiry_s
        self.client.connect(
            self.broker.host, self.broker.port, clean_start=clean_start, properties=props
        )
        self.client.loop_start()
        return self.connacks.get(timeout=10)

    def subscribe(self, topic: str) -> int:
        self.client.subscribe(topic, qos=1)
        return self.subacks.get(timeout=10)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> int:
        self.client.publish(topic, payload, qos=1, retain=retain)
        return self.acks.get(timeout=10)

    def received(self, count: int, timeout: float = 10) -> list[tuple[str, bytes]]:
        return [self.messages.get(timeout=timeout) for _ in range(count)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self.client._reset_sockets()  # paho leaves its wake-up socket pair open

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: ReasonCode, props: Any) -> None:
        self.assigned_id = getattr(props, "AssignedClientIdentifier", None)
        self.connacks.put(reason.value)

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        self.disconnects.put(reason.value)

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        self.messages.put((message.topic, bytes(message.payload)))

    def _on_publish(self, _c: Any, _u: Any, _mid: int, reason: ReasonCode, _p: Any) -> None:
        self.acks.put(reason.value)

    def _on_subscribe(self, _c: Any, _u: Any, _mid: int, codes: list[ReasonCode], _p: Any) -> None:
        self.subacks.put(codes[0].value)


@pytest.fixture
def connect(fleet: Fleet) -> Iterator[Any]:
    """connect(identity, client_id=None, **connect_options) -> a connected Client (closed after)."""
    made: list[Client] = []

    def make(identity: str, client_id: str | None = None, **options: Any) -> Client:
        client = Client(fleet.identities[identity], client_id or identity)
        made.append(client)
        assert client.connect(**options) == 0, f"{identity} was refused"
        return client

    yield make
    for client in made:
        client.close()
