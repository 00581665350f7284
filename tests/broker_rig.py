"""The rendered-broker rig: mosquitto run from the files `provision render --role broker` writes,
identities from the fleet CA, and the raw MQTT v5 client an attacker (or a test) would use."""

from __future__ import annotations

import queue
import shutil
import signal
import socket
import subprocess
import time
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
from uplink import BrokerConfig

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
NOT_AUTHORIZED = 135
NO_MATCHING_SUBSCRIBERS = 16


@dataclass
class RenderedBroker:
    """A mosquitto started from a rendered root; the CA's active client names are admitted."""

    root: Path
    port: int
    ca: pki.CADirectory
    options: dict[str, Any] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def render(self) -> None:
        """Render as `provision render --role broker --ca DIR` does: the CA's names admitted."""
        target = render.Target(self.root, local=True)
        names = {r.name for r in self.ca.records() if r.kind == "client" and r.active}
        settings = render.RenderOptions(
            tls_port=self.port,
            bind_address="127.0.0.1",
            identities=tuple(sorted(names)),
            **self.options,
        )
        changes = render.apply(render.plan("broker", target, settings), target)
        assert not [c for c in changes if c.missing], [c.missing for c in changes]

    def start(self) -> None:
        """Render (devices provisioned since are admitted, as after a re-render and a restart),
        start mosquitto and wait until it listens."""
        assert Path(MOSQUITTO).exists(), "mosquitto is needed: apt-get install mosquitto"
        self.render()
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


def provision(
    root: Path,
    ca_dir: Path,
    device_id: str,
    port: int,
    branch: str,
    role: str = "dropbox",
    *more: str,
) -> int:
    """`provision device init` a device into `root` as a technician runs it (`more`: further
    options, e.g. a kiosk's --trust-anchor): the exit code."""
    args = ["device", "init", "--role", role, "--branch", branch, "--id", device_id, *more]
    args += ["--root", str(root), "--ca", str(ca_dir)]
    args += ["--broker-host", "127.0.0.1", "--broker-port", str(port)]
    return main(args)


def provisioned_broker(root: Path) -> BrokerConfig:
    """The broker settings `provision device init` wrote for the device in `root`."""
    record = device.load_record(device.Layout(root))
    return roles.uplink_of(roles.load_config(record)).broker


def issue_identity(ca: pki.CADirectory, directory: Path, name: str, port: int) -> BrokerConfig:
    """A certificate for `name` (back office, bridge, operator): key made here, CSR signed by
    the fleet CA; its broker settings."""
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
    """A raw paho MQTT v5 client over TLS that records every reason code and message."""

    def __init__(self, broker: BrokerConfig, client_id: str) -> None:
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        # CONNACK reason codes; -1 when the broker dropped the connection before one.
        self.connacks: queue.Queue[int] = queue.Queue()
        self.disconnects: queue.Queue[int] = queue.Queue()
        self.acks: queue.Queue[int] = queue.Queue()
        self.subacks: queue.Queue[int] = queue.Queue()
        self.assigned_id: str | None = None
        self._connacked = False
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
        """The CONNACK reason code; -1 when the connection was dropped or refused before it."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = session_expiry_s
        try:
            self.client.connect(
                self.broker.host, self.broker.port, clean_start=clean_start, properties=props
            )
        except OSError:  # ssl.SSLError too: the handshake failed outright
            return -1
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
        self._connacked = True
        self.assigned_id = getattr(props, "AssignedClientIdentifier", None)
        self.connacks.put(reason.value)

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        if not self._connacked:
            self.connacks.put(-1)  # before a CONNACK: the broker dropped us (TLS refused)
        self.disconnects.put(reason.value)

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        self.messages.put((message.topic, bytes(message.payload)))

    def _on_publish(self, _c: Any, _u: Any, _mid: int, reason: ReasonCode, _p: Any) -> None:
        self.acks.put(reason.value)

    def _on_subscribe(self, _c: Any, _u: Any, _mid: int, codes: list[ReasonCode], _p: Any) -> None:
        self.subacks.put(codes[0].value)
