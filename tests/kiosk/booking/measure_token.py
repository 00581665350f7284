"""Measure booking-token size, QR version and verify time (the figures in docs/booking-tokens.md).

Run: python tests/kiosk/booking/measure_token.py  (prints one JSON object as its last line)
"""

from __future__ import annotations

import base64
import json
import sys
import time
import zlib
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

import zxingcpp

from tests.kiosk.booking import testkeys as k
from uplink.booking import base45


def qr_version(text: str) -> int:
    """The QR version zxing-cpp picks at error correction M."""
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    modules = int(zxingcpp.write_barcode_to_image(barcode, add_quiet_zones=False).shape[0])
    return (modules - 17) // 4


def jws_equivalent() -> str:
    """The same claims as a compact JWS (EdDSA), for comparison."""
    b = k.standard_booking()
    claims = {"bid": b.booking_id, "br": b.branch, "svc": b.service, "ch": b.channel,
              "n": b.party_size, "slot": b.slot_start.isoformat(), "end": b.slot_end.isoformat(),
              "name": b.masked_name, "iat": 1592103600, "exp": 1592226000}  # fmt: skip

    def b64url(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64url(json.dumps({"alg": "EdDSA", "kid": "d8964ae1"}, separators=(",", ":")).encode())
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = b64url(k.KEY_CURRENT.sign(f"{header}.{payload}".encode()))
    return f"{header}.{payload}.{signature}"


def main() -> dict[str, object]:
    typical = k.make_token()
    largest = k.make_token(
        k.standard_booking(booking_id="Z" * 16, branch="b" * 40, masked_name="Ñ" * 24)
    )
    raw = base45.decode(typical[4:])
    jws = jws_equivalent()
    verifier = k.make_verifier()
    now = datetime(2020, 6, 15, 9, 10, tzinfo=k.WIB)
    rounds = 3000
    for _ in range(200):
        verifier.verify(typical, now)
    start = time.perf_counter()
    for _ in range(rounds):
        verifier.verify(typical, now)
    verify_us = (time.perf_counter() - start) / rounds * 1e6
    start = time.perf_counter()
    for _ in range(rounds):
        verifier.verify("HC1:NOT-OURS", now)
    reject_us = (time.perf_counter() - start) / rounds * 1e6
    return {
        "typical_chars": len(typical),
        "typical_bytes": len(raw),
        "typical_zlib_bytes": len(zlib.compress(raw, 9)),
        "typical_qr_version_m": qr_version(typical),
        "largest_chars": len(largest),
        "largest_qr_version_m": qr_version(largest),
        "jws_chars": len(jws),
        "jws_qr_version_m": qr_version(jws),
        "verify_ok_us": round(verify_us, 1),
        "reject_prefix_us": round(reject_us, 1),
    }


if __name__ == "__main__":
    print(json.dumps(main()))
