"""`backoffice collection-count`: the officer's count for a dropbox collection, sent to the box,
and the box's answer (taken and confirmed, taken with a mismatch, or refused)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass

from backoffice.config import BackofficeConfig
from backoffice.publish import publish_and_await
from configkit import cli, layout, load
from uplink import batches, topics
from uplink.errors import MessageError, TopicError
from uplink.messages import Envelope, parse_json, validate

COMMAND = "collection-count"
ANSWER_TYPES = (
    "dropbox.collection_confirmed",
    "dropbox.collection_mismatch",
    "dropbox.count_refused",
)
EXIT_REFUSED = 1
EXIT_NO_ANSWER = 3


@dataclass(frozen=True)
class CountAnswer:
    """The box's answer: `kind` is confirmed, mismatch, unknown_collection or already_counted."""

    kind: str
    deposits_logged: int | None = None


def count_command(collection_id: str, counted: int) -> bytes:
    """The command body (command.collection-count.v1.json).

    Raises:
        MessageError: an empty id or a negative count.
    """
    body = {"collection_id": collection_id, "counted": counted}
    validate("command.collection-count.v1.json", body)
    return json.dumps(body, separators=(",", ":")).encode()


def parse_answer(raw: bytes, collection_id: str, counted: int) -> CountAnswer | None:
    """The box's answer to this count if `raw` (an event message from the box: one event, or a
    batch of them while it drains, see uplink.batches) holds one, else None."""
    try:
        items = batches.items(parse_json(raw))
    except MessageError:
        return None
    for item in items:
        try:
            envelope = Envelope.from_data(item)
        except MessageError:
            continue
        if (answer := _answer_in(envelope, collection_id, counted)) is not None:
            return answer
    return None


def _answer_in(envelope: Envelope, collection_id: str, counted: int) -> CountAnswer | None:
    payload = envelope.payload
    if (
        envelope.type not in ANSWER_TYPES
        or payload.get("collection_id") != collection_id
        or payload.get("counted") != counted
    ):
        return None
    if envelope.type == "dropbox.count_refused":
        return CountAnswer(str(payload["reason"]))
    if payload.get("source") != "backoffice":
        return None  # counted at the keypad meanwhile: not the answer to this command
    kind = "confirmed" if envelope.type == "dropbox.collection_confirmed" else "mismatch"
    return CountAnswer(kind, int(payload["deposits_logged"]))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "collection-count",
        help="send an officer's physical count to a dropbox and wait for its answer",
        description="Send the officer's physical count for a collection to the dropbox (for "
        "boxes opened with the key switch, which have no keypad) and wait for the box's "
        "answer. Exit codes: 0 taken (confirmed or mismatch), 1 refused or not sent, "
        "2 bad configuration, 3 no answer in time (the count stays queued for the box).",
        epilog="example: backoffice collection-count --config /etc/lapak/backoffice.toml "
        "--device jakarta-salemba-dropbox-1 --collection jakarta-salemba-dropbox-1-c3 "
        "--counted 12",
    )
    parser.add_argument(
        "--config",
        default=str(layout.config_file("backoffice")),
        help="back-office TOML file, for its broker (default %(default)s)",
    )
    parser.add_argument("--device", required=True, help="the dropbox's device id")
    parser.add_argument(
        "--collection", required=True, help="collection_id from dropbox.collection_started"
    )
    parser.add_argument(
        "--counted", type=cli.whole_number(0, 100_000, "e.g. 12"), required=True,
        help="envelopes counted",
    )  # fmt: skip
    parser.add_argument(
        "--timeout-s",
        type=cli.seconds(3600),
        default=30.0,
        help="seconds to wait for the box's answer (default 30)",
    )
    parser.set_defaults(func=_send)


def _send(args: argparse.Namespace) -> int:
    config = load(BackofficeConfig, args.config)
    try:
        body = count_command(args.collection, args.counted)
        command, events = topics.command(args.device, COMMAND), topics.events(args.device)
    except (MessageError, TopicError) as exc:
        print(f"backoffice collection-count: {exc}", file=sys.stderr)
        return 2
    # Not retained: it is queued in the box's persistent session if the box is offline.
    outcome = publish_and_await(
        config,
        command,
        body,
        retain=False,
        listen=events,
        answer=lambda raw: parse_answer(raw, args.collection, args.counted),
        answer_timeout_s=args.timeout_s,
    )
    if outcome.problem:
        print(f"backoffice collection-count: {outcome.problem}", file=sys.stderr)
        return 1
    what = f"collection {args.collection}, {args.counted} counted"
    answer = outcome.answer
    if answer is None:
        print(
            f"{args.device} did not answer within {args.timeout_s:g} s ({what}); the count is "
            "queued at the broker and the box takes it when it is back online: its answer then "
            "shows in `backoffice watch`"
        )
        return EXIT_NO_ANSWER
    if answer.kind == "confirmed":
        print(f"{args.device} took the count: {what}, equal to the deposits logged (confirmed)")
        return 0
    if answer.kind == "mismatch":
        print(
            f"{args.device} took the count: {what}, but {answer.deposits_logged} deposits were "
            "logged (MISMATCH: recount, then report it)"
        )
        return 0
    if answer.kind == "already_counted":
        print(
            f"{args.device} refused: {what}: that collection was counted already; its count stands"
        )
    else:
        print(
            f"{args.device} refused: {what}: the box has no such collection; copy the "
            "collection_id from its dropbox.collection_started event (`backoffice watch`)"
        )
    return EXIT_REFUSED
