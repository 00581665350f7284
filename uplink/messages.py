"""The message contract between devices and the back office: envelopes, event types, JSON Schemas.

Every event travels in a versioned envelope. Each event type has a JSON Schema file in
`uplink/schemas/events/<type>.v<version>.json`; the files are the single source of truth for the
type's name, version and delivery class (`x-lapak-delivery`):

- ``critical``: never dropped (deposits, check-ins, faults); storage full is reported loudly.
- ``telemetry``: may be coalesced to the latest pending one per type (heartbeats, levels).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, Literal, cast

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from uplink.errors import MessageError

ENVELOPE_VERSION = 1
# Every integer on the wire fits a signed 64-bit column (SQLite, PostgreSQL BIGINT).
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
Delivery = Literal["critical", "telemetry"]
_SCHEMA_FILE = re.compile(
    r"^(?P<name>[a-z][a-z_]*(?:\.[a-z][a-z_]*)+)\.v(?P<version>[0-9]+)\.json$"
)


@dataclass(frozen=True)
class EventType:
    """One version of one named event."""

    name: str
    version: int
    delivery: Delivery
    schema: Mapping[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class Envelope:
    """An event as it is stored in the outbox and sent on the wire."""

    event_id: str
    device_id: str
    seq: int
    type: str
    type_version: int
    occurred_at: str
    clock_synced: bool
    payload: Mapping[str, Any]
    schema_version: int = ENVELOPE_VERSION

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "schema_version": self.schema_version,
                "event_id": self.event_id,
                "device_id": self.device_id,
                "seq": self.seq,
                "type": self.type,
                "type_version": self.type_version,
                "occurred_at": self.occurred_at,
                "clock_synced": self.clock_synced,
                "payload": self.payload,
            },
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Envelope:
        """Parse and validate an envelope and its payload.

        Raises:
            MessageError: not JSON, not an envelope, an unknown type, or a payload off its schema.
        """
        return cls.from_data(parse_json(raw))

    @classmethod
    def from_data(cls, data: Any) -> Envelope:
        """Validate an already parsed envelope (e.g. one item of a batch, see uplink.batches).

        Raises:
            MessageError: not an envelope, an unknown type, or a payload off its schema.
        """
        _check(_validator("envelope.v1.json"), data, "envelope")
        if not is_timestamp(data["occurred_at"]):  # the pattern has the shape; this the calendar
            raise MessageError(
                f"invalid envelope at occurred_at: {data['occurred_at']!r} is no date"
            )
        event_type = catalog().get(data["type"], data["type_version"])
        _check(_validator_for(event_type), data["payload"], f"{event_type.name} payload")
        return cls(**data)


class Catalog:
    """All event types the contract knows, read from the schema files shipped in the package."""

    def __init__(self, types: Mapping[tuple[str, int], EventType]):
        self._types = dict(types)

    def get(self, name: str, version: int | None = None) -> EventType:
        """The named type at `version`, or its newest version.

        Raises:
            MessageError: no such type or version in the contract.
        """
        if version is None:
            versions = [v for (n, v) in self._types if n == name]
            if not versions:
                raise MessageError(f"unknown event type {name!r}; known: {', '.join(self.names())}")
            version = max(versions)
        try:
            return self._types[(name, version)]
        except KeyError:
            raise MessageError(f"unknown event type {name!r} version {version}") from None

    def names(self) -> list[str]:
        return sorted({name for name, _ in self._types})

    def __iter__(self) -> Any:
        return iter(sorted(self._types.values(), key=lambda t: (t.name, t.version)))

    def validate_payload(self, event_type: EventType, payload: Mapping[str, Any]) -> None:
        """Raises MessageError when `payload` is not valid for `event_type`."""
        _check(_validator_for(event_type), payload, f"{event_type.name} payload")


@cache
def catalog() -> Catalog:
    """The contract's event catalog (loaded once)."""
    types: dict[tuple[str, int], EventType] = {}
    for entry in resources.files("uplink.schemas").joinpath("events").iterdir():
        match = _SCHEMA_FILE.match(entry.name)
        if not match:
            continue
        schema = json.loads(entry.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        name, version = match["name"], int(match["version"])
        delivery = schema.get("x-lapak-delivery")
        if delivery not in ("critical", "telemetry"):
            raise MessageError(f"{entry.name}: x-lapak-delivery must be 'critical' or 'telemetry'")
        types[(name, version)] = EventType(name, version, cast(Delivery, delivery), schema)
    return Catalog(types)


def check_event_key(event_id: str, seq: int) -> None:
    """The envelope schema's rules for an event's key, for stores that get envelopes in code.

    Raises:
        MessageError: `event_id` is not a ULID, or `seq` is outside 1..2^63-1.
    """
    pattern, low, high = _key_rules()
    if not isinstance(event_id, str) or not pattern.match(event_id):
        raise MessageError(f"event id {_short(repr(event_id))} is not a ULID")
    if isinstance(seq, bool) or not isinstance(seq, int) or not low <= seq <= high:
        raise MessageError(f"seq {_short(repr(seq))} is out of range")


@cache
def _key_rules() -> tuple[re.Pattern[str], int, int]:
    props = schema("envelope.v1.json")["properties"]
    seq = props["seq"]
    return re.compile(props["event_id"]["pattern"]), int(seq["minimum"]), int(seq["maximum"])


def parse_json(raw: bytes) -> Any:
    """Parse one message from a peer that may be hostile: strict UTF-8 JSON, nothing else.

    Refused (MessageError): bytes that are not UTF-8, text that is not JSON, nesting deeper than
    Python's recursion limit, integers outside 64 bits, NaN, infinities, and strings holding
    lone surrogates (escaped `\\ud800`: not Unicode text, unstorable).
    """
    try:
        text = raw.decode("utf-8")
        data = _decoder().decode(text)
        # Surrogates only show when encoding; a message that cannot be stored is no message.
        # Strict UTF-8 decoding refuses encoded ones, so only a \u escape can make one.
        if "\\u" in text:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
    except MessageError:
        raise
    except (UnicodeDecodeError, UnicodeEncodeError) as exc:
        raise MessageError(f"not Unicode text: {exc.reason} at {exc.start}") from None
    except RecursionError:
        raise MessageError("JSON nested too deeply") from None
    except ValueError as exc:  # json.JSONDecodeError, int digit limits
        raise MessageError(f"not a JSON message: {_short(str(exc))}") from None
    return data


@cache
def _decoder() -> json.JSONDecoder:
    # One decoder for every message (json.loads with hooks builds a new one per call).
    return json.JSONDecoder(
        parse_int=_bounded_int, parse_constant=_no_constant, parse_float=_finite_float
    )


def _bounded_int(text: str) -> int:
    value = int(text)
    if not INT_MIN <= value <= INT_MAX:
        raise MessageError(f"integer out of range: {_short(text)}")
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise MessageError(f"number out of range: {_short(text)}")
    return value


def _no_constant(name: str) -> Any:
    raise MessageError(f"{name} is not a JSON number")


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def is_timestamp(value: object) -> bool:
    """RFC 3339 with a 4-digit year and an offset, and a real calendar date and time."""
    if not isinstance(value, str) or not _TIMESTAMP.match(value):
        return False
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return False
    return parsed.tzinfo is not None


# The shape is in the schemas (`pattern`); this adds the calendar (no 31 November).
_TIMESTAMP = re.compile(
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
_FORMATS = FormatChecker(formats=())
_FORMATS.checks("date-time")(is_timestamp)


def schema(name: str) -> Mapping[str, Any]:
    """A top-level schema shipped with the package, e.g. ``envelope.v1.json``."""
    text = resources.files("uplink.schemas").joinpath(name).read_text(encoding="utf-8")
    return cast(Mapping[str, Any], json.loads(text))


def validate(schema_name: str, data: Any) -> None:
    """Validate `data` against a top-level schema (``ack.v1.json``, ``status.v1.json``...)."""
    _check(_validator(schema_name), data, schema_name.split(".")[0])


@cache
def _validator(name: str) -> Draft202012Validator:
    # Built once: reading and compiling the schema per message was most of a receiver's work.
    return _make_validator(schema(name))


def _validator_for(event_type: EventType) -> Draft202012Validator:
    return _event_validators(event_type.name, event_type.version)


@cache
def _event_validators(name: str, version: int) -> Draft202012Validator:
    return _make_validator(catalog().get(name, version).schema)


# jsonschema (pure Python) is the reference and words every error; jsonschema-rs answers the common
# case, a valid message, about ten times faster (it was most of a receiver's CPU per event). Only a
# verdict of "valid" is taken from it: anything it rejects is judged again by jsonschema.
_FAST: dict[int, tuple[Draft202012Validator, Any]] = {}


def _fast(validator: Draft202012Validator) -> Any:
    """The jsonschema-rs twin of a (cached) validator, or None where it cannot stand in."""
    known = _FAST.get(id(validator))
    if known is not None and known[0] is validator:
        return known[1]
    twin = None
    schema = validator.schema
    # Formats: the twin asserts the same checker functions (the only format is date-time).
    if isinstance(schema, Mapping):
        try:
            twin = (
                jsonschema_rs.validator_for(dict(schema))
                if validator.format_checker is None
                else jsonschema_rs.validator_for(
                    dict(schema), validate_formats=True, formats={"date-time": is_timestamp}
                )
            )
        except (ValueError, jsonschema_rs.ValidationError):
            twin = None
    _FAST[id(validator)] = (validator, twin)
    return twin


def _make_validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    # The format checker only where a schema names a format: elsewhere jsonschema-rs stands in.
    uses_format = '"format"' in json.dumps(schema)
    return Draft202012Validator(schema, format_checker=_FORMATS if uses_format else None)


def _check(validator: Draft202012Validator, data: Any, what: str) -> None:
    fast = _fast(validator)
    if fast is not None and fast.is_valid(data):
        return
    try:
        validator.validate(data)
    except ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        message = _short(exc.message, 200)
        if (
            exc.validator in ("pattern", "format")
            and isinstance(exc.schema, Mapping)
            and exc.schema.get("format") == "date-time"
        ):
            message = (
                f"{_short(repr(exc.instance))} is not an RFC 3339 timestamp with a 4-digit year "
                "and an offset (e.g. 2026-11-30T15:50:00+07:00 or ...Z)"
            )
        raise MessageError(f"invalid {what} at {where}: {message}") from None
