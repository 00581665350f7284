"""The jsonschema-rs fast path never accepts what the reference validator (jsonschema) refuses."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from uplink.messages import _fast, _validator, _validator_for, catalog

TYPES = list(catalog())
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["", "x" * 300, "2026-11-30T03:00:00Z", "01JDQ00000000000000000000A", "١٢٣"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _value_near(prop: Any) -> st.SearchStrategy[Any]:
    """Mostly values of the property's own type (often valid), sometimes anything."""
    if not isinstance(prop, dict):
        return json_values
    if "enum" in prop:
        return st.sampled_from(prop["enum"]) | json_values
    if "const" in prop:
        return st.just(prop["const"]) | json_values
    typed = {
        "integer": st.integers(min_value=-2, max_value=10**7),
        "number": st.floats(min_value=-1, max_value=1e6),
        "string": st.text(max_size=40) | st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True),
        "boolean": st.booleans(),
        "array": st.lists(json_values, max_size=3),
        "object": st.dictionaries(st.text(max_size=8), json_values, max_size=3),
    }.get(prop.get("type"), json_values)
    return st.one_of(typed, typed, typed, json_values)


def _objects_near(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with the schema's required properties (mostly), others, and a stranger."""
    props = schema.get("properties", {})
    required = [name for name in schema.get("required", []) if name in props]
    optional = [*sorted(set(props) - set(required)), "unexpected"]
    return st.builds(
        lambda base, extra: {**base, **extra},
        st.fixed_dictionaries({name: _value_near(props[name]) for name in required}),
        st.dictionaries(
            st.sampled_from(optional),
            st.deferred(lambda: json_values),
            max_size=2,
        ),
    )


def test_every_shipped_schema_has_a_fast_twin() -> None:
    assert _fast(_validator("envelope.v1.json")) is not None
    assert all(_fast(_validator_for(t)) is not None for t in TYPES)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_payload_the_fast_path_accepts_is_valid(data: st.DataObject) -> None:
    event_type = data.draw(st.sampled_from(TYPES))
    reference = _validator_for(event_type)
    payload = data.draw(_objects_near(event_type.schema))
    if _fast(reference).is_valid(payload):
        assert reference.is_valid(payload), (event_type.name, payload)


@settings(max_examples=200, deadline=None)
@given(envelope=_objects_near(dict(_validator("envelope.v1.json").schema)))
def test_an_envelope_the_fast_path_accepts_is_valid(envelope: dict[str, Any]) -> None:
    reference = _validator("envelope.v1.json")
    if _fast(reference).is_valid(envelope):
        assert reference.is_valid(envelope), envelope
