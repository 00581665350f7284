"""Shared fixtures: a real mosquitto (TLS + ACL), a back-office receiver, device uplinks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backoffice.config import BackofficeConfig
from backoffice.receiver import Receiver
from backoffice.store import SqliteEventStore
from provisioning.broker import LocalBroker
from uplink import Uplink, UplinkConfig


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """mosquitto with the fleet's rendered config: TLS with client certs, ACL, plain loopback."""
    instance = LocalBroker(tmp_path_factory.mktemp("broker"))
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
def backoffice(broker: LocalBroker, tmp_path: Path) -> Iterator[Receiver]:
    """A running receiver storing into a fresh SQLite store (`backoffice.store`)."""
    if not broker.running:
        broker.start()
    store = SqliteEventStore(tmp_path / "backoffice.db")
    config = BackofficeConfig(broker=broker.client_config("backoffice"), database_path=store.path)
    receiver = Receiver(config, store)
    receiver.start()
    assert receiver.wait_ready(10), "receiver did not subscribe"
    yield receiver
    receiver.stop()
    store.close()


UplinkFactory = Callable[..., Uplink]


@pytest.fixture
def make_uplink(broker: LocalBroker, tmp_path: Path) -> Iterator[UplinkFactory]:
    """Build started device uplinks over TLS: make_uplink("kiosk-1", ack_timeout_s=2, ...)."""
    made: list[Uplink] = []

    def make(device_id: str, *, identity: str | None = None, **overrides: object) -> Uplink:
        settings: dict[str, object] = {
            "device_id": device_id,
            "broker": broker.client_config(identity or device_id),
            "outbox_path": tmp_path / f"{device_id}-outbox.db",
            "heartbeat_interval_s": 0,
            "reconnect_min_s": 0.05,
            "reconnect_max_s": 0.5,
        }
        settings.update(overrides)
        uplink = Uplink(UplinkConfig.model_validate(settings))
        uplink.start()
        made.append(uplink)
        return uplink

    yield make
    for uplink in made:
        uplink.stop()
