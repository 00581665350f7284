"""Write the booking-token conformance vectors (DCC test-vector style) into vectors/.

Run: python tests/kiosk/booking/make_vectors.py [OUTPUT_DIR]
Deterministic (fixed keys, Ed25519 is deterministic): a rerun must reproduce the committed files,
which test_vectors.py checks.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from kiosk.booking.ledger import CheckinRecord
from kiosk.booking.model import Verdict, as_dict
from tests.kiosk.booking import testkeys as k
from tests.kiosk.booking.testkeys import make_verifier
from uplink.booking import base45, token

HERE = Path(__file__).resolve().parent / "vectors"
NOW = "2020-06-15T09:10:00+07:00"


def ctx(**changes: Any) -> dict[str, Any]:
    """The test context: the kiosk's situation when it reads the QR."""
    base: dict[str, Any] = {
        "now": NOW,
        "branch": "jakarta-salemba",
        "timezone": "Asia/Jakarta",
        "early_tolerance_min": 30,
        "late_tolerance_min": 30,
        "trust_list": "trust-list.json",
        "cancelled": [],
        "checked_in": [],
    }
    base.update(changes)
    return base


def vector(
    name: str, description: str, qr: str, reason: str, context: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One vector file's content; the messages are filled in by `expect` (golden texts)."""
    raw: str | None
    try:
        raw = base45.decode(qr.strip("\r\n")[len(token.PREFIX) :]).hex()
    except base45.Base45Error:
        raw = None
    return {
        "name": name,
        "description": description,
        "TESTCTX": context or ctx(),
        "QR": qr,
        "RAW_HEX": raw
        if qr.startswith(token.PREFIX) and len(qr) <= token.MAX_TOKEN_CHARS
        else None,
        "EXPECTED": {"accepted": reason == "ok", "reason": reason},
    }


def verify_in_context(data: dict[str, Any], directory: Path = HERE) -> Verdict:
    """Verify one vector's QR text in its TESTCTX (the kiosk's situation)."""
    context = data["TESTCTX"]
    trust_file = context["trust_list"]
    verifier = make_verifier(
        branch=context["branch"],
        zone=context["timezone"],
        early_min=context["early_tolerance_min"],
        late_min=context["late_tolerance_min"],
        cancelled=context["cancelled"],
        checked_in=[
            CheckinRecord(c["booking_id"], c["kiosk_id"], datetime.fromisoformat(c["at"]), False)
            for c in context["checked_in"]
        ],
        trust=None if trust_file is None else (directory / trust_file).read_bytes(),
        without_trust_list=trust_file is None,
    )
    return verifier.verify(data["QR"], datetime.fromisoformat(context["now"]))


def expect(item: dict[str, Any], directory: Path) -> dict[str, Any]:
    """Add the participant's texts (and the booking, once signed) to a vector's EXPECTED.

    The reason code is written by hand in `vectors()`; the generator refuses to write a vector
    whose verdict disagrees, so the texts recorded are those of the intended outcome.
    """
    verdict = as_dict(verify_in_context(item, directory))
    expected = item["EXPECTED"]
    if verdict["reason"] != expected["reason"]:
        raise SystemExit(
            f"vector {item['name']}: got {verdict['reason']}, not {expected['reason']}"
        )
    expected.update(verdict)
    return item


def vectors() -> list[dict[str, Any]]:
    """Every vector, in file order."""
    good = k.make_token()
    wita = k.standard_booking(
        booking_id="DPS0000017",
        branch="denpasar",
        channel="collective",
        party_size=12,
        service="JKK",
        slot_start=datetime(2020, 6, 15, 7, 30, tzinfo=k.WITA),
        slot_end=datetime(2020, 6, 15, 8, 30, tzinfo=k.WITA),
        masked_name="P* S******* M****",
    )
    dps_ctx = ctx(now="2020-06-14T23:40:00+00:00", branch="denpasar", timezone="Asia/Makassar")
    flipped = bytearray(base45.decode(good[4:]))
    flipped[21] ^= 0x01  # party size 1 -> 0... then signature no longer matches
    other_sig = k.make_token(key=k.KEY_UNKNOWN, key_id=k.kid(k.KEY_CURRENT))
    hacked_name = k.claim_bytes(
        texts=[b"7K3QX9M2A", b"jakarta-salemba", b"B*** S"], lengths=[9, 15, 200]
    )
    bidi_name = k.claim_bytes(
        texts=[b"7K3QX9M2A", b"jakarta-salemba", "B*** \u202eS******".encode()]
    )
    zero_sig = token.PREFIX + base45.encode(base45.decode(good[4:])[:-64] + bytes(64))
    at = datetime(2020, 6, 15, 9, 5, tzinfo=k.WIB).astimezone(UTC).isoformat()
    out = [
        vector("valid", "a booking for this branch, today, inside its slot", good, "ok"),
        vector("valid-collective-wita", "collective booking at a WITA branch at 07:40 WITA, "
               "when the UTC date is still the day before", k.make_token(wita), "ok", dps_ctx),
        vector("valid-rotated-key", "signed by a retired key inside its signing period",
               k.make_token(key=k.KEY_RETIRED, issued_at=datetime(2019, 12, 20, tzinfo=UTC)),
               "ok"),
        vector("valid-scanner-newline", "a scanner appended CR LF", good + "\r\n", "ok"),
        vector("early-edge", "exactly 30 minutes before the slot", good, "ok",
               ctx(now="2020-06-15T08:30:00+07:00")),
        vector("late-edge", "exactly 30 minutes after the slot", good, "ok",
               ctx(now="2020-06-15T10:30:00+07:00")),
        vector("broken-qr-empty", "the scanner returned nothing", "", "empty"),
        vector("broken-qr-truncated", "the QR text was cut off mid-group", good[:100],
               "bad_encoding"),
        vector("broken-qr-cut-at-group", "cut at a group boundary: the tail is taken as signature",
               good[: 4 + 3 * 60], "bad_signature"),
        vector("wrong-prefix-dcc", "an EU DCC prefix", "HC1:" + good[4:], "wrong_prefix"),
        vector("wrong-prefix-lowercase", "prefix in lower case", "la1:" + good[4:], "wrong_prefix"),
        vector("wrong-prefix-url", "a web address QR", "HTTPS://EXAMPLE.ORG/LA1", "wrong_prefix"),
        vector("prefix-only", "the prefix and nothing else", "LA1:", "bad_encoding"),
        vector("bad-encoding-alphabet", "lower-case letters are not base45",
               good[:50] + "abc" + good[53:], "bad_encoding"),
        vector("bad-encoding-overflow", "a base45 group above 65535", good[:4] + ":::" + good[7:],
               "bad_encoding"),
        vector("unsupported-version", "format version 2",
               k.raw_token(k.claim_bytes(version=2)), "unsupported_version"),
        vector("bad-signature-tampered", "one claim bit changed after signing",
               token.PREFIX + base45.encode(bytes(flipped)), "bad_signature"),
        vector("bad-signature-other-key", "signed by an unlisted key claiming a listed key id",
               other_sig, "bad_signature"),
        vector("bad-signature-appended", "bytes appended after the signature",
               token.PREFIX + base45.encode(base45.decode(good[4:]) + b"\x00\x00"),
               "bad_signature"),
        vector("unknown-key", "signed by a key the trust list does not hold",
               k.make_token(key=k.KEY_UNKNOWN), "unknown_key"),
        vector("withdrawn-key", "signed by a withdrawn key",
               k.make_token(key=k.KEY_WITHDRAWN), "key_withdrawn"),
        vector("key-not-yet-valid", "signed by a key before its signing period starts",
               k.make_token(key=k.KEY_FUTURE), "key_not_valid"),
        vector("key-expired", "signed by a retired key after its signing period",
               k.make_token(key=k.KEY_RETIRED), "key_not_valid"),
        vector("expired", "the token's own validity ended at 09:05",
               k.make_token(expires_at=datetime(2020, 6, 15, 9, 5, tzinfo=k.WIB)), "expired"),
        vector("not-yet-valid", "issued a day in the kiosk's future",
               k.make_token(issued_at=datetime(2020, 6, 16, tzinfo=UTC),
                            expires_at=datetime(2020, 6, 17, tzinfo=UTC)), "not_yet_valid"),
        vector("wrong-branch", "a booking for another branch",
               k.make_token(k.standard_booking(branch="jakarta-cilandak")), "wrong_branch"),
        vector("wrong-day-tomorrow", "a booking for tomorrow",
               k.make_token(k.standard_booking(
                   slot_start=datetime(2020, 6, 16, 9, tzinfo=k.WIB),
                   slot_end=datetime(2020, 6, 16, 10, tzinfo=k.WIB))), "wrong_day"),
        vector("wrong-day-yesterday", "a booking for yesterday", good, "wrong_day",
               ctx(now="2020-06-16T09:10:00+07:00")),
        vector("too-early", "an hour before the slot (tolerance 30 min)", good, "too_early",
               ctx(now="2020-06-15T08:00:00+07:00")),
        vector("too-late", "45 minutes after the slot (tolerance 30 min)", good, "too_late",
               ctx(now="2020-06-15T10:45:00+07:00")),
        vector("cancelled", "the back office cancelled it", good, "cancelled",
               ctx(cancelled=["7K3QX9M2A"])),
        vector("replay", "the same booking was already checked in at 09:05", good,
               "already_checked_in",
               ctx(checked_in=[{"booking_id": "7K3QX9M2A", "kiosk_id": "kiosk-2", "at": at}])),
        vector("oversized", "far longer than any token", "LA1:" + "A" * 5000, "oversized"),
        vector("oversized-binary-junk", "401 characters", "9" * 401, "oversized"),
        vector("malicious-control-chars", "NUL and escape codes inside",
               good[:20] + "\x00\x1b[2J" + good[25:], "bad_encoding"),
        vector("malicious-unicode", "look-alike Unicode characters",
               good[:30] + "ＡＢＣ" + good[33:], "bad_encoding"),
        vector("malicious-sql", "an injection attempt", "LA1:'; DROP TABLE checkins;--",
               "bad_encoding"),
        vector("malicious-length-field", "signed, but the name length points past the end",
               k.raw_token(hacked_name), "bad_content"),
        vector("malicious-service-code", "signed, with an unknown service code",
               k.raw_token(k.claim_bytes(kinds=0x70)), "bad_content"),
        vector("malicious-party-zero", "signed, with a party size of 0",
               k.raw_token(k.claim_bytes(party=0)), "bad_content"),
        vector("malicious-stray-bytes", "signed, with bytes after the last claim",
               k.raw_token(k.claim_bytes(tail=b"\x00" * 8)), "bad_content"),
        vector("malicious-bidi-name", "signed, a right-to-left override in the masked name",
               k.raw_token(bidi_name), "bad_content"),
        vector("bad-signature-zeroed", "the signature is 64 zero bytes", zero_sig,
               "bad_signature"),
        vector("wrong-day-later", "a booking for next week",
               k.make_token(k.standard_booking(
                   slot_start=datetime(2020, 6, 22, 9, tzinfo=k.WIB),
                   slot_end=datetime(2020, 6, 22, 10, tzinfo=k.WIB))), "wrong_day"),
        vector("wrong-day-earlier", "a booking from last week", good, "wrong_day",
               ctx(now="2020-06-22T09:10:00+07:00")),
        vector("no-trust-list", "the kiosk holds no trust list yet", good, "no_trust_list",
               ctx(trust_list=None)),
    ]  # fmt: skip
    return out


def write(directory: Path) -> list[Path]:
    """Write the trust list, key facts and one file per vector; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = [directory / "trust-list.json"]
    written[0].write_bytes(k.standard_trust_list())
    keys = {
        "trust_anchor": k.ANCHOR,
        "seeds": "each private key is SHA-256 of its label (tests only)",
        "keys": {
            label: k.kid(key).hex()
            for label, key in (("current", k.KEY_CURRENT), ("retired", k.KEY_RETIRED),
                               ("withdrawn", k.KEY_WITHDRAWN), ("future", k.KEY_FUTURE),
                               ("not listed", k.KEY_UNKNOWN))
        },
    }  # fmt: skip
    written.append(directory / "keys.json")
    written[-1].write_text(json.dumps(keys, indent=1) + "\n")
    for index, item in enumerate(vectors(), start=1):
        expect(item, directory)
        path = directory / f"{index:02d}-{item['name']}.json"
        path.write_text(json.dumps(item, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    logging.basicConfig(level=logging.CRITICAL)  # the verifier's warnings are expected here
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    files = write(out)
    print(json.dumps({"written": len(files), "directory": str(out)}))
