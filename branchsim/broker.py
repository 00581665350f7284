"""A local mosquitto with the fleet's rendered config, for tests, benchmarks and simulations."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from provisioning.broker import (
    BACKOFFICE_USER,
    LOCAL_OPERATOR,
    BridgeSettings,
    BrokerError,
    free_port,
    render_broker_config,
    write_dynsec,
)
from provisioning.brokeradmin import BrokerAdmin
from provisioning.pki import CertificateAuthority, IssuedFiles, issue_identity
from uplink.config import BrokerConfig

__all__ = ["BrokerError", "LocalBroker", "free_port"]


class LocalBroker:
    """mosquitto on loopback with a TLS listener (client certificates) and a plain one."""

    def __init__(
        self,
        directory: Path,
        ca: CertificateAuthority | None = None,
        *,
        bridge_branches: tuple[str, ...] = (),
        bridge: BridgeSettings | None = None,
    ) -> None:
        """`bridge_branches`: let these branches' bridges in (a central broker); `bridge`: bridge
        this broker to a central one (see `branchsim.bridge.BridgedBrokers`)."""
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.ca = ca or CertificateAuthority.create("Lapak Asik test CA")
        self.tls_port = free_port()
        self.plain_port = free_port()
        while self.plain_port == self.tls_port:  # each probe's socket is closed before the next
            self.plain_port = free_port()
        server = issue_identity(
            self.ca, directory / "pki", "broker", server_names=["localhost", "127.0.0.1"]
        )
        self.config_file = render_broker_config(
            directory,
            server=server,
            tls_port=self.tls_port,
            plain_port=self.plain_port,
            run_as_root=os.geteuid() == 0,
            bridge_branches=bridge_branches,
            bridge=bridge,
        )
        self._process: subprocess.Popen[bytes] | None = None
        self._admitted: set[str] = {BACKOFFICE_USER, *(f"bridge-{b}" for b in bridge_branches)}
        self._admin: BrokerAdmin | None = None
        # Plain loopback clients (benchmarks) log in by name and this; TLS ones by certificate.
        self._password = secrets.token_hex(8)

    def start(self, timeout: float = 10.0) -> None:
        if self._process is not None:
            self._end(signal.SIGTERM)  # a broker that died on its own: collect it first
        # Everyone issued so far, admitted again.
        write_dynsec(self.directory, self._admitted, self._password)
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            raise BrokerError(
                "mosquitto is not installed: run scripts/setup.sh (apt-get install mosquitto)"
            )
        self._process = subprocess.Popen(
            [binary, "-c", str(self.config_file)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode() if self._process.stderr else ""
                raise BrokerError(
                    f"mosquitto exited at start: {err.strip()} (see {self.config_file})"
                )
            if _accepts(self.plain_port) and _accepts(self.tls_port):
                return
            time.sleep(0.02)
        raise BrokerError(
            f"mosquitto did not open ports {self.plain_port}/{self.tls_port} in {timeout} s"
        )

    def stop(self) -> None:
        """Graceful stop (SIGTERM): mosquitto saves its persistence file."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """Crash stop (SIGKILL): whatever was not yet autosaved is lost, as in a power cut."""
        self._end(signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def identity(self, name: str) -> IssuedFiles:
        """Issue a client certificate with CN `name` and admit it (roles by `access.kind_of`)."""
        files = issue_identity(self.ca, self.directory / "pki", name)
        self.admit([name])
        return files

    def admit(self, names: Iterable[str]) -> None:
        """Let identities issued elsewhere (a CA directory) in, now if running, else at start."""
        for name in names:
            if name not in self._admitted:
                if self.running:
                    self._operator().admit(name, self._password)
                self._admitted.add(name)

    def _operator(self) -> BrokerAdmin:
        if self._admin is None:
            files = issue_identity(self.ca, self.directory / "pki", LOCAL_OPERATOR)
            self._admin = BrokerAdmin(self._tls_config(files))
        return self._admin

    def client_config(self, name: str, *, tls: bool = True) -> BrokerConfig:
        """Broker settings for a client called `name`, over TLS (default) or plain loopback."""
        if not tls:
            self.admit([name])
            return BrokerConfig(
                host="127.0.0.1",
                port=self.plain_port,
                tls=False,
                username=name,
                password=self._password,
            )
        return self._tls_config(self.identity(name))

    def _tls_config(self, files: IssuedFiles) -> BrokerConfig:
        return BrokerConfig(
            host="127.0.0.1",
            port=self.tls_port,
            tls=True,
            ca_file=files.ca_file,
            cert_file=files.cert_file,
            key_file=files.key_file,
        )

    def log(self) -> str:
        path = self.directory / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _end(self, sig: signal.Signals) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(sig)
            self._process.wait(timeout=10)
        if self._process.stderr:
            self._process.stderr.close()
        self._process = None


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0
