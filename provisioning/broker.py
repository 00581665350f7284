"""The fleet's broker config rendered for a local mosquitto (as `provision render` does)."""

from __future__ import annotations

import random
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import firmware_config
from provisioning import access
from provisioning.errors import ProvisionError
from provisioning.pki import IssuedFiles
from provisioning.render import DYNSEC_FILE

BACKOFFICE_USER = "backoffice"
# The identity LocalBroker admits devices with while it runs (tests issue them on demand).
LOCAL_OPERATOR = "operator-local"


@dataclass(frozen=True)
class BridgeSettings:
    """A branch broker's bridge to the central broker (CN of `identity`: bridge-BRANCH)."""

    branch: str
    central_host: str
    central_port: int
    identity: IssuedFiles


class BrokerError(ProvisionError, RuntimeError):
    """mosquitto is missing or did not start; the message says how to fix it."""


# Below Linux's default ephemeral range (32768-60999). A port the kernel hands out for bind(0)
# is one it also hands out as the source port of outgoing connections: between our probe and
# the server's own bind, some MQTT or PostgreSQL client could take it (it happened with tests
# running in parallel: mosquitto "exited at start").
_SERVER_PORTS = range(20000, 32768)
_rng = random.Random()  # noqa: S311 - spreading picks, not security


def free_port() -> int:
    """A loopback TCP port nobody listens on now, for a server about to start (a broker, a
    database or an API in tests and simulations); from below the ephemeral range."""
    for _ in range(200):
        port = _rng.choice(_SERVER_PORTS)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:  # in use (or lingering): try another
                continue
            return port
    with socket.socket() as sock:  # that range is full: let the kernel choose
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def render_broker_config(
    directory: Path,
    *,
    server: IssuedFiles,
    tls_port: int,
    plain_port: int | None,
    bind_address: str = "127.0.0.1",
    backoffice_user: str = BACKOFFICE_USER,
    run_as_root: bool = False,
    crl_file: Path | None = None,
    bridge_branches: tuple[str, ...] = (),
    bridge: BridgeSettings | None = None,
    identities: Iterable[str] = (),
) -> Path:
    """Write mosquitto.conf and the dynamic-security file into `directory`; returns the config.

    The broker admits `identities`, the back office and the local operator; `bridge_branches`
    lets those branches' bridges in (a central broker); `bridge` makes this a branch broker
    bridged to a central one, with the fleet's bridge template.
    """
    data_dir = directory / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    bridges = [f"bridge-{branch}" for branch in bridge_branches]
    dynsec_file = write_dynsec(directory, [*identities, backoffice_user, *bridges])
    plain = (
        firmware_config.render("mosquitto/plain-listener.conf.tmpl", plain_port=plain_port)
        if plain_port
        else ""
    )
    text = firmware_config.render(
        "mosquitto/mosquitto.conf.tmpl",
        allow_anonymous="true" if plain_port else "false",
        dynsec_plugin=access.dynsec_plugin_path(),
        dynsec_file=dynsec_file,
        data_dir=data_dir,
        log_file=directory / "mosquitto.log",
        tls_port=tls_port,
        bind_address=bind_address,
        ca_file=server.ca_file,
        cert_file=server.cert_file,
        key_file=server.key_file,
        plain_listener=plain,
        crl_line=f"crlfile {crl_file}" if crl_file else "",
    )
    if bridge is not None:
        text += firmware_config.render(
            "mosquitto/bridge.conf.tmpl",
            branch=bridge.branch,
            central_host=bridge.central_host,
            central_port=bridge.central_port,
            ca_file=bridge.identity.ca_file,
            bridge_cert_file=bridge.identity.cert_file,
            bridge_key_file=bridge.identity.key_file,
            inbound_topics="topic lapak/v1/dev/+/ack in 1\ntopic lapak/v1/dev/+/cmd/# in 1",
        )
    if run_as_root:
        # Started as root, mosquitto drops to the `mosquitto` user, which cannot read our files.
        text = "user root\n" + text
    config = directory / "mosquitto.conf"
    config.write_text(text)
    return config


def write_dynsec(directory: Path, identities: Iterable[str], password: str | None = None) -> Path:
    """The dynamic-security file for a local broker admitting `identities` and its operator."""
    path = directory / DYNSEC_FILE
    path.write_text(access.dynsec_json([*identities, LOCAL_OPERATOR], password))
    return path
