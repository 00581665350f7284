"""The topic scheme. Each device publishes only under its own prefix and reads only its own acks
and commands; the broker enforces it with roles keyed on the certificate identity (see
firmware_config/mosquitto/roles.toml and provisioning/access.py).

    lapak/v1/dev/{device}/evt        device -> back office   event envelopes, QoS 1
    lapak/v1/dev/{device}/status     device (and its will)   retained online/offline
    lapak/v1/dev/{device}/state      device                  retained device state (e.g. dropbox)
    lapak/v1/dev/{device}/ack        back office -> device   application acks, QoS 1
    lapak/v1/dev/{device}/cmd/{name} back office -> device   commands
    lapak/v1/branch/{branch}/occupancy  back office          retained, read by the branch's kiosks
"""

from __future__ import annotations

import re

from uplink.errors import TopicError

PREFIX = "lapak/v1"
SHARE_GROUP = "backoffice"
_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def check_id(value: str, what: str = "device id") -> str:
    """Return `value` if it is safe as one topic level, else raise TopicError saying why."""
    if not _ID.match(value):
        raise TopicError(
            f"{what} {value!r} is not allowed: use 1-64 characters of a-z, 0-9 and '-', "
            "not starting or ending with '-' (MQTT wildcards and '/' would break the ACL)"
        )
    return value


def events(device: str) -> str:
    return f"{PREFIX}/dev/{check_id(device)}/evt"


def status(device: str) -> str:
    return f"{PREFIX}/dev/{check_id(device)}/status"


def state(device: str) -> str:
    return f"{PREFIX}/dev/{check_id(device)}/state"


def ack(device: str) -> str:
    return f"{PREFIX}/dev/{check_id(device)}/ack"


def command(device: str, name: str = "+") -> str:
    return f"{PREFIX}/dev/{check_id(device)}/cmd/{name}"


def occupancy(branch: str) -> str:
    return f"{PREFIX}/branch/{check_id(branch, 'branch id')}/occupancy"


def all_events(share_group: str | None = SHARE_GROUP) -> str:
    """The back office's subscription: every device's events, load-shared across receivers."""
    topic = f"{PREFIX}/dev/+/evt"
    return f"$share/{share_group}/{topic}" if share_group else topic


ALL_STATUS = f"{PREFIX}/dev/+/status"
ALL_STATE = f"{PREFIX}/dev/+/state"


def device_of(topic: str) -> str:
    """The device id in a `lapak/v1/dev/{device}/...` topic.

    Raises:
        TopicError: the topic is not in the device tree.
    """
    parts = topic.split("/")
    if len(parts) < 4 or "/".join(parts[:2]) != PREFIX or parts[2] != "dev":
        raise TopicError(f"not a device topic: {topic!r}")
    return check_id(parts[3])
