"""A simulated branch for `provision check --simulate`: broker, back office, backend API."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from branchsim.broker import LocalBroker
from branchsim.office import LocalOffice
from provisioning.broker import free_port, render_broker_config
from provisioning.pki import CADirectory, IssuedFiles
from uplink import BrokerConfig, branches

logger = logging.getLogger(__name__)


class SimulatedBranch:
    """mosquitto with the fleet config (its server certificate and CRL from the device's CA),
    the back-office receiver, and a stand-in backend API, all on loopback.

    Each part can be left out to simulate its failure: `broker=False` leaves the device's
    broker port closed, `backoffice=False` leaves probe events unacked, `api=False` leaves the
    API port closed.
    """

    def __init__(
        self, ca: CADirectory, *, broker: bool = True, backoffice: bool = True, api: bool = True
    ) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="lapak-simbranch-")
        self.directory = Path(self._tmp.name)
        self._want = {"broker": broker, "backoffice": backoffice, "api": api}
        self.broker = LocalBroker(self.directory / "broker", ca=ca.ca)
        # Re-render with the CA's CRL, as a production broker has it: revoked devices are refused.
        pki_dir = self.broker.directory / "pki"
        render_broker_config(
            self.broker.directory,
            server=IssuedFiles(pki_dir / "ca.crt", pki_dir / "broker.crt", pki_dir / "broker.key"),
            tls_port=self.broker.tls_port,
            plain_port=self.broker.plain_port,
            run_as_root=os.geteuid() == 0,
            crl_file=ca.crl_file,
        )
        # The broker admits the CA's devices, as a production broker rendered with `--ca` does.
        self.broker.admit(r.name for r in ca.records() if r.kind == "client" and r.active)
        self._office = LocalOffice(self.broker, self.directory / "backoffice.db")
        self._http: ThreadingHTTPServer | None = None
        self.api_port = free_port()

    def device_broker(self, device: BrokerConfig) -> BrokerConfig:
        """The device's broker settings pointed at this branch, with the device's own files."""
        return device.model_copy(update={"host": "127.0.0.1", "port": self.broker.tls_port})

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/"

    def __enter__(self) -> SimulatedBranch:
        if self._want["broker"]:
            self.broker.start()
        if self._want["broker"] and self._want["backoffice"]:
            self._office.start()
        if self._want["api"]:
            self._http = ThreadingHTTPServer(("127.0.0.1", self.api_port), _ApiHandler)
            threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        self._office.stop()
        self.broker.stop()
        self._tmp.cleanup()


class _ApiHandler(BaseHTTPRequestHandler):
    """Answers like the booking API's health endpoint, and its branch list (every branch in the
    branch table, as a back office with no `branches` set)."""

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/branches":
            body = json.dumps({"branches": sorted(branches.table())}).encode()
        else:
            body = json.dumps({"status": "ok", "simulated": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("simulated API: %s", format % args)
