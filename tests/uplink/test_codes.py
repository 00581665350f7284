"""One booking-code format: typed with or without separators, shown grouped, walk-ins alike."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from uplink.booking import codes


@pytest.mark.parametrize("typed", ["960443TY2", "960-443-TY2", "960 443 ty2", " 96o-443-ty2 "])
def test_a_code_is_accepted_with_or_without_separators(typed: str) -> None:
    assert codes.normalize(typed) == "960443TY2"


def test_a_code_is_shown_grouped_in_threes_everywhere() -> None:
    assert codes.shown("960443TY2") == "960-443-TY2"
    assert codes.shown("960-443-ty2") == "960-443-TY2"
    assert codes.shown("B0000007") == "B0000007"  # not a booking code: as it is


@given(st.uuids())
def test_a_walk_in_code_is_a_valid_code_derived_from_the_checkin_id(checkin: uuid.UUID) -> None:
    code = codes.walkin_code(checkin.hex)

    assert codes.normalize(codes.display(code)) == code  # typed back from the ticket
    assert code == codes.walkin_code(checkin.hex)  # the back office derives the same


def test_a_walk_in_code_needs_a_hex_checkin_id() -> None:
    with pytest.raises(ValueError, match="shorter than 10"):
        codes.walkin_code("abc")
