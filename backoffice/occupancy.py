"""Branch occupancy for the kiosks: a retained message the back office keeps current."""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Mapping
from datetime import UTC, datetime

from paho.mqtt.reasoncodes import ReasonCode

from backoffice.config import BackofficeConfig
from configkit import load
from uplink import topics
from uplink.clock import utc_iso
from uplink.messages import validate
from uplink.session import make_client


def occupancy_message(
    inside: int,
    capacity: int,
    *,
    waiting: Mapping[str, int] | None = None,
    at: datetime | None = None,
) -> bytes:
    """The retained occupancy message (occupancy.v1.json), checked before it leaves.

    Raises:
        MessageError: a count is negative.
    """
    body: dict[str, object] = {
        "schema_version": 1,
        "inside": inside,
        "capacity": capacity,
        "at": utc_iso(at or datetime.now(UTC)),
    }
    if waiting:
        body["waiting"] = dict(waiting)
    validate("occupancy.v1.json", body)
    return json.dumps(body, separators=(",", ":")).encode()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "occupancy", help="publish a branch's occupancy (retained) for its kiosks"
    )
    parser.add_argument("--config", required=True, help="back-office TOML file (its broker)")
    parser.add_argument("--branch", required=True, help="branch id, e.g. jakarta-salemba")
    parser.add_argument("--inside", type=int, required=True, help="people inside now")
    parser.add_argument("--capacity", type=int, required=True, help="most people allowed inside")
    parser.set_defaults(func=_publish_once)


def _publish_once(args: argparse.Namespace) -> int:
    config = load(BackofficeConfig, args.config)
    body = occupancy_message(args.inside, args.capacity)
    client = make_client(f"backoffice-occupancy-{config.receiver.receiver_id}", config.broker)
    client.on_socket_register_write = None  # paho's loop thread writes
    done = threading.Event()
    reasons: list[ReasonCode] = []

    def on_publish(_c: object, _u: object, _mid: int, reason: ReasonCode, _p: object) -> None:
        reasons.append(reason)
        done.set()

    client.on_publish = on_publish
    client.connect(config.broker.host, config.broker.port)
    client.loop_start()
    try:
        client.publish(topics.occupancy(args.branch), body, qos=1, retain=True)
        if not done.wait(10):
            print(f"no answer from the broker at {config.broker.host}:{config.broker.port}")
            return 1
    finally:
        client.disconnect()
        client.loop_stop()
    if reasons[0].is_failure:
        print(f"the broker refused the occupancy message: {reasons[0]}; check the ACL")
        return 1
    print(f"{topics.occupancy(args.branch)}: {body.decode()}")
    return 0
