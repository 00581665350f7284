"""The token format: base45 per RFC 9285, the binary layout, size limits and encoder checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st

from backoffice.bookings.qr import qr_image
from tests.kiosk.booking import testkeys as k
from uplink.booking import base45, token


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"AB", "BB8"),
        (b"Hello!!", "%69 VD92EX0"),
        (b"base-45", "UJCLQE7W581"),
        (b"ietf!", "QED8WEX0"),
        (b"", ""),
    ],
)
def test_base45_matches_rfc_9285_examples(data: bytes, text: str) -> None:
    assert base45.encode(data) == text
    assert base45.decode(text) == data


@pytest.mark.parametrize("text", ["GGW", "GGW0", "A", "abc", "ZZZ", "::"])
def test_base45_rejects_invalid_text(text: str) -> None:
    """Out-of-range groups (RFC 9285 4.2), 3n+1 lengths and foreign characters are refused."""
    with pytest.raises(base45.Base45Error):
        base45.decode(text)


@given(st.binary(max_size=300))
def test_base45_round_trips(data: bytes) -> None:
    text = base45.encode(data)
    assert set(text) <= set(base45.ALPHABET)
    assert base45.decode(text) == data


def test_typical_token_size_and_qr_version() -> None:
    """A one-person booking is about 190 characters and a QR of version 8 or less."""
    text = k.make_token()
    assert len(text) <= 200
    assert set(text[4:]) <= set(base45.ALPHABET)
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    assert barcode.symbology_identifier == "]Q1"
    modules = zxingcpp.write_barcode_to_image(barcode, add_quiet_zones=False).shape[0]
    assert modules == 17 + 4 * 8  # version 8: alphanumeric mode (byte mode would need 9)
    read = zxingcpp.read_barcodes(qr_image(text, scale=4))
    assert [r.text for r in read] == [text]


def test_largest_possible_token_is_under_300_characters() -> None:
    """Every field at its maximum: 16-character id, 40-character branch, 48-byte name."""
    booking = k.standard_booking(
        booking_id="Z" * 16,
        branch="b" * 40,
        masked_name="Ñ" * 24,
        party_size=255,
        slot_end=k.standard_booking().slot_start + timedelta(minutes=0xFFFF),
    )
    text = k.make_token(booking)
    assert len(text) == 294
    assert len(text) < token.MAX_TOKEN_CHARS
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    assert zxingcpp.write_barcode_to_image(barcode, add_quiet_zones=False).shape[0] == 17 + 4 * 10


def test_split_checks_signature_position_and_key_id() -> None:
    text = k.make_token()
    signed = token.split(text)
    assert signed.kid == k.kid(k.KEY_CURRENT)
    assert len(signed.signature) == token.SIGNATURE_LENGTH
    assert signed.message().startswith(token.DOMAIN)
    k.KEY_CURRENT.public_key().verify(signed.signature, signed.message())


def test_claims_round_trip() -> None:
    booking = k.standard_booking(channel="collective", party_size=17, service="JKM")
    issued = datetime(2020, 6, 14, 3, tzinfo=UTC)
    signed = token.split(k.make_token(booking, issued_at=issued))
    claims = token.parse_claims(signed.signed)
    assert claims.booking == booking
    assert claims.issued_at == issued
    assert claims.expires_at == booking.slot_end + timedelta(hours=12)
    assert claims.booking.slot_start.utcoffset() == timedelta(hours=7)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"booking_id": "abc"}, "booking_id"),
        ({"branch": "Jakarta Salemba"}, "branch"),
        ({"party_size": 0}, "party_size"),
        ({"party_size": 256}, "party_size"),
        ({"masked_name": "x" * 49}, "masked_name"),
        ({"masked_name": "B\x00"}, "masked_name"),
        ({"slot_end": datetime(2020, 6, 15, 8, tzinfo=k.WIB)}, "slot_end"),
        ({"slot_start": datetime(2020, 6, 15, 9, 0, 30, tzinfo=k.WIB)}, "whole minutes"),
    ],
)
def test_encoder_refuses_what_the_format_cannot_hold(
    changes: dict[str, object], words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        k.make_token(k.standard_booking(**changes))


def test_encoder_refuses_a_time_its_32_bit_seconds_cannot_hold() -> None:
    """`backoffice booking issue --date 2107-01-01` was 'unexpected error: error: 'I' format
    requires 0 <= number <= 4294967295'."""
    late = datetime(2107, 1, 1, 9, tzinfo=k.WIB)
    booking = k.standard_booking(slot_start=late, slot_end=late + timedelta(hours=1))
    with pytest.raises(ValueError, match="times from 1970 to 2106-02-07 fit in a token"):
        k.make_token(booking)
    with pytest.raises(ValueError, match="2106-02-07"):
        token.encode(
            k.standard_booking(),
            kid=k.kid(k.KEY_CURRENT),
            issued_at=k.ISSUED_AT,
            expires_at=datetime(2106, 2, 8, tzinfo=UTC),
            sign=k.KEY_CURRENT.sign,
        )


def test_encoder_refuses_naive_slot_and_bad_signer() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        k.make_token(k.standard_booking(slot_start=datetime(2020, 6, 15, 9)))
    with pytest.raises(ValueError, match="64-byte"):
        token.encode(
            k.standard_booking(),
            kid=k.kid(k.KEY_CURRENT),
            issued_at=k.ISSUED_AT,
            expires_at=k.ISSUED_AT + timedelta(days=2),
            sign=lambda message: b"short",
        )
    with pytest.raises(ValueError, match="key id"):
        token.encode(
            k.standard_booking(),
            kid=b"\x00",
            issued_at=k.ISSUED_AT,
            expires_at=k.ISSUED_AT + timedelta(days=2),
            sign=k.KEY_CURRENT.sign,
        )


def test_scanner_noise_is_stripped_but_inner_noise_is_not() -> None:
    text = k.make_token()
    assert token.split("\x00" + text + "\r\n").kid == k.kid(k.KEY_CURRENT)
    with pytest.raises(token.TokenError) as caught:
        token.split(text[:50] + "\n" + text[50:])
    assert caught.value.reason == "bad_encoding"
