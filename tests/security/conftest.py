"""A fleet broker rendered as `provision render --role broker --ca DIR` renders it, devices
provisioned with `provision device init`, and raw MQTT clients an attacker would use
(`tests.broker_rig`)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from provisioning import pki, render
from provisioning.broker import free_port
from tests.broker_rig import (
    NOT_AUTHORIZED,
    Client,
    RenderedBroker,
    issue_identity,
    provision,
    provisioned_broker,
)
from uplink import BrokerConfig

__all__ = ["BRANCH", "NOT_AUTHORIZED", "Client", "Fleet"]

BRANCH = "jakarta-salemba"
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
    broker: RenderedBroker = field(init=False)

    def __post_init__(self) -> None:
        self.broker = RenderedBroker(self.root, self.port, self.ca, {"bridge_branches": (BRANCH,)})

    def provision(
        self, device_id: str, role: str = "dropbox", branch: str = BRANCH, *more: str
    ) -> int:
        """`provision device init` as a technician runs it (`more`: further options, e.g. a
        kiosk's --trust-anchor); returns the exit code."""
        root = self.base / "devices" / device_id
        code = provision(root, self.base / "ca", device_id, self.port, branch, role, *more)
        if code == 0:
            self.identities[device_id] = provisioned_broker(root)
        return code

    def issue(self, name: str) -> BrokerConfig:
        """A certificate for `name` signed by the fleet CA (back office, bridge, operator)."""
        self.identities[name] = issue_identity(self.ca, self.base, name, self.port)
        return self.identities[name]

    def start(self) -> None:
        """The broker's own certificate, the rendered config with the CA's names, mosquitto."""
        target = render.Target(self.root, local=True)
        render.install_broker_identity(target, self.ca, ["broker.test", "127.0.0.1"])
        self.broker.start()

    def stop(self) -> None:
        self.broker.stop()

    def log(self) -> str:
        return self.broker.log()

    def rss_kib(self) -> int:
        return self.broker.rss_kib()


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
    instance.start()
    yield instance
    instance.stop()
    shutil.rmtree(base, ignore_errors=True)


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
