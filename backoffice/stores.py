"""The back office's event store chosen by its config: SQLite by path, PostgreSQL by URL."""

from __future__ import annotations

from typing import Protocol

from backoffice.config import BackofficeConfig
from backoffice.errors import BackofficeError
from backoffice.store import DeviceRow, EventRow, EventStore, SqliteEventStore


class QueryableEventStore(EventStore, Protocol):
    """The receiver's writes plus the queries `watch`, the branch summary and the bookings'
    check-in import use; both stores provide it."""

    def devices(self) -> list[DeviceRow]: ...

    def events_after(
        self, rowid: int = 0, limit: int = 100, type_prefix: str = ""
    ) -> list[EventRow]: ...

    def latest_events(self, limit: int = 20) -> list[EventRow]: ...

    def event_ids(self, type_name: str | None = None) -> list[str]: ...

    def count(self, type_name: str | None = None) -> int: ...

    def count_by_type(self) -> dict[str, int]: ...

    def rejected_count(self) -> int: ...

    def close(self) -> None: ...


class DatabaseError(BackofficeError, RuntimeError):
    """The event store cannot be opened or used (the message says what to check)."""


def open_store(config: BackofficeConfig) -> QueryableEventStore:
    """The configured store, schema created or migrated.

    Raises:
        DatabaseError: the PostgreSQL server cannot be reached or its schema
            is newer than this back office.
    """
    if config.database_url is not None:
        # Imported here: SQLite-only installs (a branch, a laptop) never load psycopg.
        from backoffice.pgstore import PostgresEventStore

        return PostgresEventStore(config.database_url.get_secret_value())
    if config.database_path is None:  # the config's validator demands one of the two
        raise DatabaseError("no event store configured: set database_path or database_url")
    return SqliteEventStore(config.database_path)
