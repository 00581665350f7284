"""Shared fixtures: a real mosquitto (TLS + ACL), a real PostgreSQL, a back-office receiver on
either event store, device uplinks."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from backoffice.config import BackofficeConfig
from backoffice.receiver import Receiver
from backoffice.stores import QueryableEventStore, open_store
from branchsim.broker import LocalBroker
from tests import parallel
from tests.pg import LocalPostgres, unavailable_reason
from uplink import Uplink, UplinkConfig

# The test rigs whose fixtures more than one folder uses: the kiosk's `rig` and `kiosk`, the
# back office's `office` and its booking `api`.
pytest_plugins = ("tests.kiosk.rig", "tests.backoffice.bookings.helpers")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-at",
        metavar="ISO-INSTANT|near-wib-midnight",
        help="run with the machine's wall clock moved to this instant (ticking on): no test may "
        "depend on the hour. near-wib-midnight: the last 23:50 WIB before now.",
    )


def clock_at(text: str, now: datetime) -> datetime:
    """`--clock-at`'s instant. `near-wib-midnight` is the last 23:50 WIB (16:50 UTC) before
    `now`, in the past so that certificates issued then are valid to OpenSSL's own clock."""
    if text == "near-wib-midnight":
        moment = now.astimezone(UTC).replace(hour=16, minute=50, second=0, microsecond=0)
        return moment if moment <= now else moment - timedelta(days=1)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise pytest.UsageError(f"--clock-at {text}: add a UTC offset, e.g. {text}+07:00")
    return moment


def pytest_configure(config: pytest.Config) -> None:
    text = config.getoption("--clock-at")
    if text:
        import time_machine

        # A parallel run's workers take the instant the controller moved to (one clock for the
        # whole run, even when a worker starts after 16:50 UTC and the controller before it).
        given = getattr(config, "workerinput", {}).get("clock_at")
        moment = datetime.fromisoformat(given) if given else clock_at(text, datetime.now(UTC))
        traveller = time_machine.travel(moment, tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)
    # Kivy writes its config into KIVY_HOME at first import: one home per test process (and
    # the tools it starts), so parallel workers never read each other's half-written file.
    # A home set by hand is kept; one made here (inherited by xdist's workers) is replaced.
    if os.environ.get("KIVY_HOME") == os.environ.get("LAPAK_TEST_KIVY_HOME"):
        home = tempfile.mkdtemp(prefix="lapak-kivy-test-")
        os.environ["KIVY_HOME"] = os.environ["LAPAK_TEST_KIVY_HOME"] = home
        config.add_cleanup(lambda: shutil.rmtree(home, ignore_errors=True))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if hasattr(config, "workerinput"):  # a pytest-xdist worker; every worker sorts alike
        parallel.long_first(items)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """pytest-xdist, in the controller: `--dist loadgroup` keeps tests.parallel's groups."""
    return parallel.make_scheduler(config, log) if config.getvalue("dist") == "loadgroup" else None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist, in the controller: hand each worker the moved wall clock's instant."""
    if node.config.getoption("--clock-at"):
        node.workerinput["clock_at"] = datetime.now(UTC).isoformat()


def pytest_report_header(config: pytest.Config) -> str | None:
    text = config.getoption("--clock-at")
    if not text:
        return None
    return f"wall clock moved to {datetime.now(UTC).isoformat()} (--clock-at {text})"


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """mosquitto with the fleet's rendered config: TLS with client certs, ACL, plain loopback."""
    instance = LocalBroker(tmp_path_factory.mktemp("broker"))
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    """A real PostgreSQL server (Debian's) in a temporary directory on a free loopback port;
    skips the test, with the reason, where the server binaries are absent."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    server = LocalPostgres()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def store_kind() -> str:
    """Which event store the `backoffice` fixtures use; modules that test both override this
    with a fixture parametrized over ``["sqlite", "postgresql"]``."""
    return "sqlite"


STORE_KINDS = ["sqlite", "postgresql"]


@pytest.fixture
def store_config(store_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """The `database_path` or `database_url` setting of a fresh, empty event store."""
    if store_kind == "postgresql":
        server: LocalPostgres = request.getfixturevalue("postgres")
        return {"database_url": server.new_database()}
    return {"database_path": tmp_path / "backoffice.db"}


@pytest.fixture
def backoffice(broker: LocalBroker, store_config: dict[str, Any]) -> Iterator[Receiver]:
    """A running receiver storing into a fresh event store (SQLite unless `store_kind` says)."""
    if not broker.running:
        broker.start()
    config = BackofficeConfig(broker=broker.client_config("backoffice"), **store_config)
    store = open_store(config)
    receiver = Receiver(config, store)
    receiver.start()
    assert receiver.wait_ready(10), "receiver did not subscribe"
    yield receiver
    receiver.stop()
    store.close()


def queries(receiver: Receiver) -> QueryableEventStore:
    """The receiver's store, with its queries."""
    store = receiver.store
    assert hasattr(store, "event_ids") and hasattr(store, "devices")
    return store  # type: ignore[return-value]


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


class RawDevice:
    """A bare MQTT client holding a device's certificate: publishes whatever a test hands it
    (bypassing the uplink) and collects the acks the back office sends to that device."""

    def __init__(self, broker: LocalBroker, device_id: str) -> None:
        from uplink import topics
        from uplink.session import make_client

        self.device_id = device_id
        self.acked: list[str] = []
        self._changed = threading.Condition()
        self.client = make_client(device_id, broker.client_config(device_id))
        self.client.on_socket_register_write = None  # paho's own loop thread writes here
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", broker.tls_port)
        self.client.subscribe(topics.ack(device_id), qos=1)
        self.client.loop_start()
        assert subscribed.wait(10), "ack subscription not confirmed"

    def publish(self, payload: bytes, *, topic: str | None = None) -> None:
        from uplink import topics

        info = self.client.publish(topic or topics.events(self.device_id), payload, qos=1)
        info.wait_for_publish(10)

    def wait_acks(self, count: int, timeout: float = 10) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self.acked) >= count, timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self.client._reset_sockets()  # paho leaves its wake-up socket pair open

    def _on_message(self, _c: object, _u: object, message: Any) -> None:
        with self._changed:
            self.acked.extend(json.loads(message.payload)["acked"])
            self._changed.notify_all()


@pytest.fixture
def raw_device(broker: LocalBroker) -> Iterator[Callable[[str], RawDevice]]:
    """raw_device("kiosk-9") -> a connected RawDevice (closed after the test)."""
    made: list[RawDevice] = []

    def make(device_id: str) -> RawDevice:
        made.append(RawDevice(broker, device_id))
        return made[-1]

    yield make
    for device in made:
        device.close()
