"""free_port: a port for a server about to start, never one the kernel hands to clients."""

from __future__ import annotations

import socket
from pathlib import Path

from provisioning.broker import free_port


def _ephemeral_range() -> range:
    low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    return range(int(low), int(high) + 1)


def test_a_free_port_is_below_the_ephemeral_range_and_can_be_listened_on() -> None:
    ports = {free_port() for _ in range(50)}

    assert not ports & set(_ephemeral_range())
    assert len(ports) > 40  # spread out, not one port handed to every caller
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", ports.pop()))
        sock.listen()
