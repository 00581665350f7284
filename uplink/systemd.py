"""systemd notifications for device services (READY, WATCHDOG), without a libsystemd dependency.

Apps call `notify_watchdog()` only from their real progress loop, so a hung loop lets systemd's
`WatchdogSec` restart the service. Outside systemd (no NOTIFY_SOCKET) every call does nothing.
"""

from __future__ import annotations

import os
import socket


def notify(state: str) -> bool:
    """Send `state` (e.g. "READY=1") to systemd; returns False when not run by systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace socket
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.sendall(state.encode())
    return True


def notify_ready() -> bool:
    return notify("READY=1")


def notify_watchdog() -> bool:
    return notify("WATCHDOG=1")


def notify_status(text: str) -> bool:
    return notify(f"STATUS={text}")
