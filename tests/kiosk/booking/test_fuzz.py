"""Hypothesis fuzzing of the token parser, the verifier and the trust-list reader: no crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.booking import REASONS
from kiosk.booking.verifier import BookingVerifier
from tests.kiosk.booking import testkeys as k
from uplink.booking import base45, codes, token, trustlist

VERIFIER: BookingVerifier = k.make_verifier()
GOOD = k.make_token()
GOOD_RAW = base45.decode(GOOD[len(token.PREFIX) :])
NOW = datetime(2020, 6, 15, 2, 10, tzinfo=UTC)
SIGNED_REASONS = k.SIGNED_REASONS
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
moments = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


def _check(text: str, now: datetime = NOW) -> str:
    verdict = VERIFIER.verify(text, now)
    assert verdict.reason in REASONS
    assert verdict.accepted == (verdict.reason == "ok")
    assert verdict.message_id and verdict.message_en and verdict.next_step_id
    assert (verdict.booking is not None) == (verdict.reason in SIGNED_REASONS)
    return verdict.reason


@FUZZ
@given(st.text(max_size=600))
def test_any_text_gets_a_verdict(text: str) -> None:
    _check(text)


@FUZZ
@given(st.text(alphabet=base45.ALPHABET, max_size=420))
def test_any_base45_text_after_the_prefix_gets_a_verdict(body: str) -> None:
    reason = _check(token.PREFIX + body)
    assert reason not in SIGNED_REASONS  # nobody forges a signature by chance


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_as_a_token_get_a_verdict(raw: bytes) -> None:
    reason = _check(token.PREFIX + base45.encode(raw))
    assert reason not in SIGNED_REASONS


def test_every_single_bit_flip_is_caught() -> None:
    """All of a token's bits, one at a time: none yields a booking."""
    seen = set()
    for bit in range(len(GOOD_RAW) * 8):
        flipped = bytearray(GOOD_RAW)
        flipped[bit // 8] ^= 1 << (bit % 8)
        seen.add(_check(token.PREFIX + base45.encode(bytes(flipped))))
    assert seen == {"bad_signature", "unknown_key", "unsupported_version"}


@FUZZ
@given(st.binary(min_size=0, max_size=160))
def test_signed_garbage_claims_never_crash(tail: bytes) -> None:
    """What a faulty issuer could sign: a good header, then anything."""
    reason = _check(k.raw_token(GOOD_RAW[:5] + tail))
    assert reason in SIGNED_REASONS | {"bad_content", "bad_encoding"}


@FUZZ
@given(
    st.sampled_from(["JHT", "JKK", "JKM", "JP"]),
    st.sampled_from(["online", "collective"]),
    st.integers(1, 255),
    st.text(max_size=24).filter(lambda s: s.isprintable() and len(s.encode()) <= 48),
    st.integers(-14 * 4, 14 * 4),
    moments,
)
def test_every_encodable_booking_round_trips(
    service: str, channel: str, party: int, name: str, offset_q: int, now: datetime
) -> None:
    zone_start = datetime(2020, 6, 15, 9, 0, tzinfo=UTC).astimezone(
        timezone(timedelta(minutes=15 * offset_q))
    )
    booking = k.standard_booking(
        service=service,
        channel=channel,
        party_size=party,
        masked_name=name,
        slot_start=zone_start,
        slot_end=zone_start + timedelta(hours=1),
    )
    text = k.make_token(booking)
    assert len(text) <= 300
    claims = token.parse_claims(token.split(text).signed)
    assert claims.booking == booking
    _check(text, now)


@FUZZ
@given(st.binary(max_size=2000))
def test_trust_list_reader_raises_only_its_error(document: bytes) -> None:
    try:
        trustlist.parse(document, [k.ROOT.public_key()])
    except trustlist.TrustListError:
        pass


def test_deeply_nested_trust_list_is_refused_cleanly() -> None:
    try:
        trustlist.parse(b"[" * 100_000 + b"]" * 100_000, [k.ROOT.public_key()])
    except trustlist.TrustListError as exc:
        assert "not a" in str(exc) or "malformed" in str(exc)
    else:
        raise AssertionError("a nested array is not a trust list")


@FUZZ
@given(st.text(max_size=40))
def test_typed_codes_raise_only_their_error(typed: str) -> None:
    try:
        code = codes.normalize(typed)
    except codes.BookingCodeError:
        return
    assert len(code) == codes.CODE_LENGTH
    assert codes.check_symbol(code[:-1]) == code[-1]
