"""Branch occupancy for the kiosks: a retained message the back office keeps current."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime

from backoffice.config import BackofficeConfig
from backoffice.publish import publish_once
from configkit import cli, layout, load
from uplink import topics
from uplink.branches import UnknownBranchError, known_branch
from uplink.clock import utc_iso
from uplink.messages import validate

MAX_COUNT = 100_000  # occupancy.v1.json's maximum for a count of people


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
    parser.add_argument(
        "--config",
        default=str(layout.config_file("backoffice")),
        help="back-office TOML file, for its broker (default %(default)s)",
    )
    parser.add_argument(
        "--branch", required=True, help="branch id, e.g. jakarta-salemba (uplink/branches.toml)"
    )
    count = cli.whole_number(0, MAX_COUNT, "e.g. 25")
    parser.add_argument("--inside", type=count, required=True, help="people inside now")
    parser.add_argument("--capacity", type=count, required=True, help="most people allowed inside")
    parser.set_defaults(func=_publish_once)


def _publish_once(args: argparse.Namespace) -> int:
    config = load(BackofficeConfig, args.config)
    try:
        known_branch(args.branch)
    except UnknownBranchError as exc:
        print(f"backoffice occupancy: {exc}", file=sys.stderr)
        return 2
    topic = topics.occupancy(args.branch)
    body = occupancy_message(args.inside, args.capacity)
    problem = publish_once(config, topic, body, retain=True)
    if problem:
        print(f"backoffice occupancy: {problem}", file=sys.stderr)
        return 1
    print(f"{topic}: {body.decode()}")
    return 0
