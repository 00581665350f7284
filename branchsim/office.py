"""The back office on a local broker: its receiver storing every event into SQLite."""

from __future__ import annotations

import logging
from pathlib import Path

from backoffice.config import BackofficeConfig
from backoffice.receiver import Receiver
from backoffice.store import SqliteEventStore
from branchsim.broker import LocalBroker

logger = logging.getLogger(__name__)
READY_S = 10.0


class LocalOffice:
    """The back-office receiver subscribed on `broker` (as "backoffice"), storing into
    `database`; what the throwaway sandbox and `provision check --simulate` run beside their
    broker. `start()` and `stop()` (safe after a partial start, and twice)."""

    def __init__(self, broker: LocalBroker, database: Path) -> None:
        self._broker = broker
        self._database = database
        self.store: SqliteEventStore | None = None
        self._receiver: Receiver | None = None

    def start(self) -> None:
        """Open the store and start the receiver; a receiver slow to subscribe is logged (the
        devices' outboxes hold their events until it does)."""
        self.store = SqliteEventStore(self._database)
        config = BackofficeConfig(
            broker=self._broker.client_config("backoffice"), database_path=self.store.path
        )
        self._receiver = Receiver(config, self.store)
        self._receiver.start()
        if not self._receiver.wait_ready(READY_S):
            logger.warning("the local back office did not subscribe in %g s", READY_S)

    def stored(self) -> int:
        """Events stored so far."""
        return 0 if self.store is None else self.store.count()

    def stop(self) -> None:
        if self._receiver is not None:
            self._receiver.stop()
            self._receiver = None
        if self.store is not None:
            self.store.close()
            self.store = None
