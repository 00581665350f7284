"""The message contract: schemas, envelopes, event ids, topics."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from uplink import Envelope, MessageError, TopicError, catalog, topics
from uplink.ids import EVENT_ID_PATTERN, event_id_time_ms, new_event_id
from uplink.messages import schema


def test_every_shipped_schema_is_valid_draft_2020_12() -> None:
    for name in ("envelope.v1.json", "ack.v1.json", "status.v1.json"):
        Draft202012Validator.check_schema(schema(name))
    types = list(catalog())
    assert {t.name for t in types} >= {"device.heartbeat", "device.fault", "device.probe"}
    for event_type in types:
        Draft202012Validator.check_schema(event_type.schema)
        assert event_type.schema.get("additionalProperties") is False, event_type.name


def envelope(**changes: object) -> bytes:
    body: dict[str, object] = {
        "schema_version": 1,
        "event_id": new_event_id(),
        "device_id": "kiosk-1",
        "seq": 1,
        "type": "device.probe",
        "type_version": 1,
        "occurred_at": "2026-11-21T10:00:00.000Z",
        "clock_synced": True,
        "payload": {"purpose": "test"},
    }
    body.update(changes)
    return json.dumps(body).encode()


def test_envelope_round_trips() -> None:
    raw = envelope()
    parsed = Envelope.from_json(raw)
    assert json.loads(parsed.to_json()) == json.loads(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"\xff\xfe", "not Unicode text"),
        (b"[]", "invalid envelope"),
        (envelope(schema_version=2), "invalid envelope at schema_version"),
        (envelope(device_id="Kiosk 1"), "invalid envelope at device_id"),
        (envelope(type="no.such"), "unknown event type"),
        (envelope(payload={"purpose": "test", "extra": 1}), "device.probe payload"),
        (envelope(extra=1), "invalid envelope"),
    ],
)
def test_bad_envelopes_are_refused_with_the_reason(raw: bytes, expected: str) -> None:
    with pytest.raises(MessageError, match=expected):
        Envelope.from_json(raw)


@given(st.binary(max_size=300))
def test_the_parser_never_crashes_on_arbitrary_bytes(raw: bytes) -> None:
    try:
        Envelope.from_json(raw)
    except MessageError:
        pass


def test_event_ids_are_unique_sortable_and_carry_their_time() -> None:
    ids = [new_event_id() for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert all(EVENT_ID_PATTERN.match(i) for i in ids)
    assert event_id_time_ms(new_event_id(now_ms=1_700_000_000_000)) >= 1_700_000_000_000


def test_topics_put_each_device_under_its_own_prefix() -> None:
    assert topics.events("kiosk-1") == "lapak/v1/dev/kiosk-1/evt"
    assert topics.ack("kiosk-1") == "lapak/v1/dev/kiosk-1/ack"
    assert topics.device_of("lapak/v1/dev/kiosk-1/evt") == "kiosk-1"
    assert topics.all_events() == "$share/backoffice/lapak/v1/dev/+/evt"
    for bad in ("kiosk/1", "+", "#", "Kiosk", "-a", "", "a" * 65):
        with pytest.raises(TopicError):
            topics.check_id(bad)


def test_the_contract_document_lists_every_event_type_with_its_delivery_class() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "mqtt-contract.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z_.]+)` \| (critical|telemetry) \|", doc, re.MULTILINE))
    shipped = {t.name: t.delivery for t in catalog()}
    assert rows == shipped
