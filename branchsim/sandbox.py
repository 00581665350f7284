"""A throwaway broker and back office in a temporary folder, for simulators run with no set-up."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from types import TracebackType

from branchsim.broker import LocalBroker
from branchsim.office import LocalOffice
from uplink import BrokerConfig

logger = logging.getLogger(__name__)


class Sandbox:
    """mosquitto with the fleet config (a fresh CA) and the back-office receiver storing into
    SQLite, all in a temporary folder removed on exit: what `dropbox-agent simulate` with no
    config talks to (found through the `lapak.sandbox` entry point)."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="lapak-sandbox-")
        self.directory = Path(self._tmp.name)
        self.broker = LocalBroker(self.directory / "broker")
        self.office = LocalOffice(self.broker, self.directory / "events.db")

    def client_config(self, device_id: str) -> BrokerConfig:
        """Broker settings with a certificate for `device_id`."""
        return self.broker.client_config(device_id)

    def stored(self) -> int:
        """Events the back office has stored so far."""
        return self.office.stored()

    def __enter__(self) -> Sandbox:
        try:
            self.broker.start()
            self.office.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.office.stop()
        self.broker.stop()
        self._tmp.cleanup()
