"""The rendered broker config, run for real: TLS devices with their rendered credentials, the ACL,
the CRL, and the branch-to-central bridge."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from provisioning import pki, render
from provisioning.broker import free_port
from tests.broker_rig import (
    NO_MATCHING_SUBSCRIBERS,
    NOT_AUTHORIZED,
    Client,
    RenderedBroker,
    issue_identity,
    provision,
    provisioned_broker,
)
from uplink import BrokerConfig, topics

ALL_ACKS = "lapak/v1/dev/+/ack"


@pytest.fixture
def base() -> Iterator[Path]:
    """A directory the `mosquitto` user can traverse once the broker has dropped root."""
    directory = Path(tempfile.mkdtemp(prefix="lapak-broker-test-"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def _render_broker(
    base: Path, name: str, ca: pki.CADirectory, **options: Any
) -> tuple[RenderedBroker, render.Target]:
    root = base / name
    target = render.Target(root, local=True)
    render.install_broker_identity(target, ca, [f"{name}.test", "127.0.0.1"])
    broker = RenderedBroker(root, free_port(), ca, options)
    broker.render()
    return broker, target


@contextmanager
def running(broker: RenderedBroker) -> Iterator[RenderedBroker]:
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def _provision(base: Path, ca: Path, device_id: str, port: int) -> BrokerConfig:
    """`provision device init` a dropbox, then read back its rendered broker settings."""
    assert provision(base / device_id, ca, device_id, port, "jakarta-salemba") == 0
    return provisioned_broker(base / device_id)


@contextmanager
def connected(name: str, broker: BrokerConfig) -> Iterator[Client]:
    client = Client(broker, name)
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
    office = issue_identity(ca, base, "backoffice", broker.port)

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
    stranger = issue_identity(stranger_ca, base, "dropbox-3", broker.port)
    stranger = stranger.model_copy(update={"ca_file": ca.cert_file})

    with running(broker), connected("dropbox-1", device_side):
        pass  # accepted before it is revoked

    ca.revoke(name="dropbox-1", reason="key_compromise")
    render.install_broker_identity(target, ca, ["broker.test", "127.0.0.1"])  # new CRL

    with running(broker):
        for name, side in (("dropbox-1", device_side), ("dropbox-3", stranger)):
            client = Client(side, name)
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
    office = issue_identity(ca, base, "backoffice", central.port)

    with running(central), connected("backoffice", office) as back:
        assert back.subscribe(topics.all_events(None)) == 1
        with running(branch), connected("dropbox-1", device_side) as box:
            assert box.subscribe(topics.ack("dropbox-1")) == 1
            # The bridge connects in the background; a message before that is queued by it.
            assert box.publish(topics.events("dropbox-1"), b"deposit") in (0, 16)
            assert back.messages.get(timeout=15) == (topics.events("dropbox-1"), b"deposit")
            assert back.publish(topics.ack("dropbox-1"), b"ack") in (0, 16)
            assert box.messages.get(timeout=15) == (topics.ack("dropbox-1"), b"ack")
