"""Who may do what on the broker: identity kinds, reserved ids, the dynamic-security config.

An identity is a certificate's CN. The broker takes it as the MQTT username and as the client id
(so one stolen device certificate can never take over another client's session), and mosquitto's
dynamic-security plugin grants it the roles of its kind (`firmware_config/mosquitto/roles.toml`):

    backoffice, backoffice-*   the back office (receivers, operator commands)
    bridge-{branch}            a branch broker's bridge to the central one
    operator, operator-*       administers the broker's clients live ($CONTROL)
    broker, broker-*           a broker's server certificate: no client rights
    anything else              a device: its own topics only

Devices may not take the reserved names (`provision device init` refuses them). The plugin checks
subscriptions when they are made, `$share/...` included, which mosquitto's `acl_file` does not.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tomllib
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, Literal

import firmware_config
from provisioning.errors import Refused
from uplink.errors import TopicError
from uplink.topics import check_id

IdentityKind = Literal["device", "backoffice", "bridge", "operator", "server"]
DYNSEC_PLUGIN_CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so",
    "/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so",
    "/usr/lib/arm-linux-gnueabihf/mosquitto_dynamic_security.so",
    "/usr/lib/mosquitto_dynamic_security.so",
)
CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
# Every kind but "device": names a device may never take, as a prefix ("backoffice-rx-1") or whole.
_RESERVED_NAMES: dict[str, IdentityKind] = {
    "backoffice": "backoffice",
    "bridge": "bridge",
    "operator": "operator",
    "broker": "server",
}
_PBKDF2_ROUNDS = 101  # a loopback test password: its hash guards nothing worth the time
_ACL_TYPES = ("publishClientSend", "publishClientReceive", "subscribePattern")


class ReservedIdentity(Refused, ValueError):
    """A device id that belongs to the back office, a bridge, an operator or a broker."""


def kind_of(identity: str) -> IdentityKind:
    """What an identity is, from its name alone (the CA signs the name; the name is the role)."""
    for name, kind in _RESERVED_NAMES.items():
        if identity == name or identity.startswith(f"{name}-"):
            return kind
    return "device"


def check_device_id(device_id: str) -> str:
    """Return `device_id` if a device may have it, else raise ReservedIdentity saying why."""
    kind = kind_of(device_id)
    if kind != "device":
        names = ", ".join(f"{n}, {n}-*" for n in _RESERVED_NAMES)
        raise ReservedIdentity(
            f"device id {device_id!r} is reserved for the {kind} ({names} are not device ids): "
            "choose another id, e.g. kiosk-<branch>-1"
        )
    return device_id


@cache
def _role_rules() -> dict[str, dict[str, list[str]]]:
    text = firmware_config.files().joinpath("mosquitto/roles.toml").read_text(encoding="utf-8")
    return {name: dict(rules) for name, rules in tomllib.loads(text).items()}


def _role(rolename: str, template: str, **values: str) -> dict[str, Any]:
    rules = _role_rules()[template]
    acls = [
        {"acltype": acltype, "topic": topic.format(**values), "priority": 0, "allow": True}
        for acltype in _ACL_TYPES
        for topic in rules.get(acltype, [])
    ]
    return {"rolename": rolename, "acls": acls}


def roles_of(identity: str) -> list[dict[str, Any]]:
    """The dynamic-security roles `identity` needs, shared ones included (by name, with ACLs)."""
    kind = kind_of(identity)
    if kind == "device":
        check_id(identity)
        return [_role("device", "device"), _role(f"device-{identity}", "device-self", id=identity)]
    if kind == "bridge":
        branch = identity.removeprefix("bridge-")
        try:
            check_id(branch, "branch id")
        except TopicError:
            return []  # "bridge" alone, or a malformed branch: no rights
        return [_role(identity, "bridge", branch=branch)]
    if kind in ("backoffice", "operator"):
        return [_role(kind, kind)]
    return []  # a broker's server certificate is no client


def dynsec_config(identities: Iterable[str], password: str | None = None) -> dict[str, Any]:
    """The dynamic-security plugin's file admitting `identities` (others get no rights at all).

    With `password` (a local test broker's plain loopback listener only) each client may also
    log in by name and that password; certificates need none.
    """
    roles: dict[str, dict[str, Any]] = {}
    clients = []
    for identity in sorted(set(identities)):
        mine = roles_of(identity)
        if not mine:
            continue
        for role in mine:
            roles[role["rolename"]] = role
        client: dict[str, Any] = {
            "username": identity,
            "roles": [{"rolename": r["rolename"]} for r in mine],
        }
        if password is not None:
            client.update(_hashed(password))
        clients.append(client)
    return {
        # Deny by default: a client may only do what one of its roles allows.
        "defaultACLAccess": {
            "publishClientSend": False,
            "publishClientReceive": False,
            "subscribe": False,
            "unsubscribe": True,
        },
        "clients": clients,
        "groups": [],
        "roles": list(roles.values()),
    }


def dynsec_json(identities: Iterable[str], password: str | None = None) -> str:
    return json.dumps(dynsec_config(identities, password), indent=2) + "\n"


def _hashed(password: str) -> dict[str, Any]:
    """The plugin's password fields: PBKDF2-HMAC-SHA512 over a 12-byte salt, base64."""
    salt = os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _PBKDF2_ROUNDS)
    return {
        "password": base64.b64encode(digest).decode(),
        "salt": base64.b64encode(salt).decode(),
        "iterations": _PBKDF2_ROUNDS,
    }


def control_commands(identity: str, password: str | None = None) -> list[dict[str, Any]]:
    """`$CONTROL` commands admitting `identity` on a running broker (its roles, then itself).

    A role that exists already makes its createRole fail harmlessly; the client is then created
    with it all the same.
    """
    mine = roles_of(identity)
    commands: list[dict[str, Any]] = [
        {"command": "createRole", "rolename": r["rolename"], "acls": r["acls"]} for r in mine
    ]
    client: dict[str, Any] = {
        "command": "createClient",
        "username": identity,
        "roles": [{"rolename": r["rolename"]} for r in mine],
    }
    if password is not None:
        client["password"] = password
    commands.append(client)
    return commands


def dynsec_plugin_path() -> str:
    """Where Debian's mosquitto keeps the dynamic-security plugin on this machine."""
    for candidate in DYNSEC_PLUGIN_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return DYNSEC_PLUGIN_CANDIDATES[0]
