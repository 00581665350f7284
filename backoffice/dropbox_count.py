"""`backoffice collection-count`: the officer's count for a dropbox collection, sent to the box."""

from __future__ import annotations

import argparse
import json

from backoffice.config import BackofficeConfig
from backoffice.publish import publish_once
from configkit import load
from uplink import topics
from uplink.messages import validate

COMMAND = "collection-count"


def count_command(collection_id: str, counted: int) -> bytes:
    """The command body (command.collection-count.v1.json).

    Raises:
        MessageError: an empty id or a negative count.
    """
    body = {"collection_id": collection_id, "counted": counted}
    validate("command.collection-count.v1.json", body)
    return json.dumps(body, separators=(",", ":")).encode()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "collection-count",
        help="send an officer's physical count to a dropbox (boxes opened with the key switch)",
    )
    parser.add_argument("--config", required=True, help="back-office TOML file (its broker)")
    parser.add_argument("--device", required=True, help="the dropbox's device id")
    parser.add_argument(
        "--collection", required=True, help="collection_id from dropbox.collection_started"
    )
    parser.add_argument("--counted", type=int, required=True, help="envelopes counted")
    parser.set_defaults(func=_send)


def _send(args: argparse.Namespace) -> int:
    config = load(BackofficeConfig, args.config)
    topic = topics.command(args.device, COMMAND)
    # Not retained: it is queued in the box's persistent session if the box is offline.
    problem = publish_once(
        config, topic, count_command(args.collection, args.counted), retain=False
    )
    if problem:
        print(problem)
        return 1
    print(f"sent to {args.device}: collection {args.collection}, {args.counted} counted")
    return 0
