"""systemd notifications for device services (READY, WATCHDOG), without a libsystemd dependency.

Apps call `notify_watchdog()` only from their real progress loop, and only while the threads
they depend on are alive, so a hung or dead loop lets systemd's `WatchdogSec` restart the
service. Outside systemd (no NOTIFY_SOCKET) every call does nothing. As with libsystemd's
`sd_notify()`, a socket that cannot be reached (systemd restarting, the socket gone for a
moment) is not the caller's problem: the call returns False and the loop goes on.
"""

from __future__ import annotations

import logging
import os
import socket

logger = logging.getLogger(__name__)


def notify(state: str) -> bool:
    """Send `state` (e.g. "READY=1") to systemd.

    Returns:
        True when sent; False when not run by systemd or when the socket could not be reached.
    """
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.settimeout(1.0)  # a full socket buffer must not block a device loop
            sock.connect(address)
            sock.sendall(state.encode())
    except (OSError, ValueError) as exc:  # ValueError: a NUL inside a path address
        logger.debug("systemd notify %s not sent: %s", state.split("=", 1)[0], exc)
        return False
    return True


def notify_ready() -> bool:
    return notify("READY=1")


def notify_watchdog() -> bool:
    return notify("WATCHDOG=1")


def notify_status(text: str) -> bool:
    return notify(f"STATUS={text}")
