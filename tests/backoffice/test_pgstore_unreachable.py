"""An event database out of reach at start: one line naming the config key the user set."""

from __future__ import annotations

import functools
import logging
import socket
from pathlib import Path

import pytest

from backoffice import pgstore
from backoffice.bookings.checkins import open_checkin_events
from backoffice.bookings.config import BookingsConfig
from backoffice.stores import DatabaseError


def closed_port() -> int:
    with socket.socket() as probe:  # bound, never listening: connections are refused
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_booking_api_names_event_store_url_and_the_pool_logs_no_warnings_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """GIVEN a booking config whose event_store_url names a PostgreSQL nobody listens on
    WHEN the check-in import opens it THEN the one error says event_store_url (the key in that
    config, not the receiver's database_url) and why, and no pool WARNING lines precede it."""
    url = f"postgresql://lapak@127.0.0.1:{closed_port()}/events"
    config = BookingsConfig(
        database_path=tmp_path / "bookings.db",
        keys_dir=tmp_path / "keys",
        event_store_url=url,  # type: ignore[arg-type]  # pydantic parses it into a SecretStr
        device_registry_path=tmp_path / "devices.toml",
    )
    quick = functools.partial(pgstore.PostgresEventStore, timeout_s=0.5)
    monkeypatch.setattr(pgstore, "PostgresEventStore", quick)

    with caplog.at_level(logging.INFO), pytest.raises(DatabaseError) as raised:
        open_checkin_events(config)

    message = str(raised.value)
    assert "check event_store_url and" in message and "database_url" not in message
    assert "refused" in message.lower(), message  # the last attempt's reason, not a type name
    assert "\n" not in message
    assert [r for r in caplog.records if r.name.startswith("psycopg")] == []
    assert logging.getLogger("psycopg.pool").filters == []  # held back only while opening


def test_the_receiver_still_names_database_url() -> None:
    with pytest.raises(DatabaseError, match="check database_url and"):
        pgstore.PostgresEventStore(
            f"postgresql://lapak@127.0.0.1:{closed_port()}/events", timeout_s=0.5
        )
