"""The event stores, SQLite and PostgreSQL, behind one contract: idempotent, rejects kept aside,
device rows, and the queries `watch`, the branch summary and the check-in import use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from backoffice.config import BackofficeConfig
from backoffice.pgstore import MIGRATIONS, PostgresEventStore
from backoffice.stores import DatabaseError, QueryableEventStore, open_store
from tests.conftest import STORE_KINDS
from tests.pg import LocalPostgres
from uplink.config import BrokerConfig
from uplink.messages import Envelope

NOW = "2026-11-30T03:00:00Z"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(store_config: dict[str, Any]) -> Iterator[QueryableEventStore]:
    broker = BrokerConfig.model_validate({"host": "127.0.0.1", "port": 1883, "tls": False})
    opened = open_store(BackofficeConfig(broker=broker, **store_config))
    yield opened
    opened.close()


def event(device: str, seq: int, type_name: str = "device.probe", **payload: Any) -> Envelope:
    return Envelope(
        event_id=f"01JDQ{_CROCKFORD[sum(map(ord, device)) % 32]}{seq:020d}",
        device_id=device,
        seq=seq,
        type=type_name,
        type_version=1,
        occurred_at=f"2026-11-30T02:{seq % 60:02d}:00Z",
        clock_synced=True,
        payload=payload or {"purpose": "test", "n": seq},
    )


def test_an_event_is_stored_once_however_often_it_arrives(store: QueryableEventStore) -> None:
    batch = [event("kiosk-1", 1), event("kiosk-1", 2), event("kiosk-1", 1)]
    assert store.store_events(batch, NOW) == 2
    assert store.store_events([event("kiosk-1", 2), event("kiosk-1", 3)], NOW) == 1
    assert store.count() == 3
    assert sorted(store.event_ids("device.probe")) == sorted(
        e.event_id for e in (event("kiosk-1", 1), event("kiosk-1", 2), event("kiosk-1", 3))
    )


def test_events_are_keyed_per_device(store: QueryableEventStore) -> None:
    # Another device reusing an id (a clone, a bug) must not hide the first device's event.
    first = event("kiosk-1", 1)
    clone = Envelope(**{**first.__dict__, "device_id": "kiosk-2"})
    assert store.store_events([first, clone], NOW) == 2
    assert store.count() == 2


def test_queries_see_events_in_arrival_order(store: QueryableEventStore) -> None:
    store.store_events([event("kiosk-1", n) for n in range(1, 6)], NOW)
    store.store_events([event("dropbox-1", 1, "device.probe")], NOW)
    latest = store.latest_events(3)
    assert [(e.device_id, e.seq) for e in latest] == [
        ("kiosk-1", 4),
        ("kiosk-1", 5),
        ("dropbox-1", 1),
    ]
    assert latest[-1].payload == {"purpose": "test", "n": 1}
    first = store.events_after(0, limit=2)
    assert [e.seq for e in first] == [1, 2]
    rest = store.events_after(first[-1].rowid, limit=100)
    assert [(e.device_id, e.seq) for e in rest] == [
        ("kiosk-1", 3),
        ("kiosk-1", 4),
        ("kiosk-1", 5),
        ("dropbox-1", 1),
    ]
    assert store.events_after(0, type_prefix="device.")[0].seq == 1
    assert store.events_after(0, type_prefix="kiosk.") == []
    assert store.count_by_type() == {"device.probe": 6}
    assert store.count("device.probe") == 6
    assert store.count("kiosk.ticket.issued") == 0


def test_device_rows_follow_status_state_and_heartbeats(store: QueryableEventStore) -> None:
    store.set_status(
        "dropbox-1",
        {"online": True, "at": NOW, "pending": 7, "storage_full": True, "software": "0.1.0"},
    )
    store.set_state("dropbox-1", {"summary": "3 dokumen / 3 waiting", "alerts": ["tamper"]})
    store.store_events(
        [
            event("dropbox-1", 2, "device.heartbeat", pending=2, uptime_s=10),
            event("dropbox-1", 1),
        ],
        NOW,
    )
    (row,) = store.devices()
    assert row.online is True and row.storage_full is True
    assert row.status_at == NOW
    assert row.pending == 2
    assert row.state == {"summary": "3 dokumen / 3 waiting", "alerts": ["tamper"]}
    assert row.last_event_type == "device.heartbeat"
    store.set_status("dropbox-1", {"online": False})  # the broker's last will: no version
    (row,) = store.devices()
    assert row.online is False and row.pending == 2
    assert row.software == "0.1.0"


def test_rejected_messages_are_kept_aside(store: QueryableEventStore) -> None:
    store.store_rejected("lapak/v1/devices/kiosk-1/evt", b"\xff\x00 not json", "not JSON", NOW)
    store.store_rejected("lapak/v1/devices/kiosk-1/evt", b"{}", "no envelope", NOW, "X" * 26)
    assert store.rejected_count() == 2
    assert store.count() == 0


@pytest.mark.parametrize(
    "odd",
    [
        "a\x00b\u2603",
        pytest.param("a\ud800b", id="lone-surrogate"),
    ],
)
def test_what_a_device_may_send_inside_strings_is_stored_as_sent(
    store: QueryableEventStore, store_kind: str, odd: str
) -> None:
    # NUL and lone surrogates are valid JSON string escapes; PostgreSQL text refuses them raw.
    if store_kind == "sqlite" and "\ud800" in odd:
        pytest.xfail("SQLite store: lone surrogates are refused before it (messages.parse_json)")
    assert store.store_events([event("kiosk-1", 1, purpose=odd)], NOW) == 1
    assert store.latest_events(1)[0].payload == {"purpose": odd}
    store.set_state("kiosk-1", {"summary": odd})
    store.set_status("kiosk-1", {"online": True, "at": odd, "pending": "many"})
    (row,) = store.devices()
    assert row.state == {"summary": odd}
    assert row.online is True
    assert row.status_at is not None and row.status_at.startswith("a")
    if store_kind == "postgresql":  # typed columns: a non-number is no count
        assert row.pending is None


# -- PostgreSQL only ---------------------------------------------------------------------------


def test_the_schema_is_created_once_and_recorded_in_its_version_table(
    postgres: LocalPostgres,
) -> None:
    url = postgres.new_database()
    first = PostgresEventStore(url)
    first.store_events([event("kiosk-1", 1)], NOW)
    second = PostgresEventStore(url)  # a second receiver starting: finds the schema, keeps data
    assert second.count() == 1
    first.close()
    second.close()
    with psycopg.connect(url) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version")]
    assert versions == list(range(1, len(MIGRATIONS) + 1))


def test_a_schema_newer_than_this_back_office_is_refused(postgres: LocalPostgres) -> None:
    url = postgres.new_database()
    PostgresEventStore(url).close()
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (len(MIGRATIONS) + 1,))
    with pytest.raises(DatabaseError, match="upgrade the back office"):
        PostgresEventStore(url)


def test_an_unreachable_server_is_one_clear_error_without_the_password(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError) as caught:
        PostgresEventStore("postgresql://bo:hunter2@127.0.0.1:9/events", timeout_s=0.5)
    assert "events at 127.0.0.1:9" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_the_config_names_exactly_one_store() -> None:
    broker = {"host": "127.0.0.1", "port": 1883, "tls": False}
    with pytest.raises(ValueError, match="exactly one"):
        BackofficeConfig.model_validate({"broker": broker})
    with pytest.raises(ValueError, match="exactly one"):
        BackofficeConfig.model_validate(
            {"broker": broker, "database_path": "e.db", "database_url": "postgresql://h/db"}
        )
    with pytest.raises(ValueError, match=r"postgresql://"):
        BackofficeConfig.model_validate({"broker": broker, "database_url": "mysql://h/db"})
    config = BackofficeConfig.model_validate({"broker": broker, "database_url": "postgresql:///e"})
    assert "postgresql" not in repr(config)  # a URL may carry a password: kept secret
