"""The conformance suite: every vector file in vectors/ gives its expected verdict and texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.booking import REASONS
from kiosk.booking.model import as_dict
from kiosk.booking.reasons import TEXTS
from tests.kiosk.booking import make_vectors
from tests.kiosk.booking.testkeys import SIGNED_REASONS

VECTORS = make_vectors.HERE
FILES = sorted(VECTORS.glob("[0-9][0-9]-*.json"))
REQUIRED = (
    "valid",
    "broken-qr",
    "wrong-prefix",
    "bad-encoding",
    "bad-signature",
    "unknown-key",
    "withdrawn-key",
    "expired",
    "not-yet-valid",
    "wrong-branch",
    "wrong-day",
    "replay",
    "oversized",
    "malicious",
)


def _load(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_vector(path: Path) -> None:
    """GIVEN a vector file WHEN its QR is verified in its context THEN verdict and texts match."""
    data = _load(path)
    expected = data["EXPECTED"]
    assert isinstance(expected, dict)
    assert expected["reason"] in REASONS
    assert as_dict(make_vectors.verify_in_context(data)) == expected


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_outcome_tells_the_participant_what_to_do(path: Path) -> None:
    """Each verdict carries Bahasa Indonesia and English texts, filled, with a next step."""
    expected = _load(path)["EXPECTED"]
    assert isinstance(expected, dict)
    for key in ("message_id", "message_en", "next_step_id", "next_step_en"):
        text = expected[key]
        assert isinstance(text, str)
        assert len(text) >= 15, key
        assert "{" not in text, f"unfilled placeholder in {key}: {text}"
    assert expected["message_id"] != expected["message_en"]
    # A booking is shown only once its signature verified.
    assert (expected["booking"] is not None) == (expected["reason"] in SIGNED_REASONS)


def test_suite_covers_every_required_case() -> None:
    names = [path.stem.split("-", 1)[1] for path in FILES]
    missing = [case for case in REQUIRED if not any(name.startswith(case) for name in names)]
    assert not missing, f"conformance cases missing: {missing}"


def test_suite_covers_every_token_reason() -> None:
    """Every reason a scanned token can get appears in at least one vector."""
    seen = {_load(path)["EXPECTED"]["reason"] for path in FILES}  # type: ignore[index]
    typed_only = {"bad_code", "code_not_found", "lookup_offline"}
    network_only = {
        "key_unknown_offline",
        "key_unknown_retry",
    }  # TrustRefresh's, tested in test_key_rotation.py
    assert seen == REASONS - typed_only - network_only
    assert {key.split(":")[0] for key in TEXTS} == REASONS


def test_vectors_are_reproducible(tmp_path: Path) -> None:
    """The generator script reproduces the committed files byte for byte (no drift)."""
    written = make_vectors.write(tmp_path)
    committed = sorted(p.name for p in VECTORS.glob("*.json"))
    assert sorted(p.name for p in written) == committed
    for path in written:
        assert path.read_bytes() == (VECTORS / path.name).read_bytes(), path.name


def test_valid_tokens_fit_the_size_target() -> None:
    for path in FILES:
        data = _load(path)
        expected = data["EXPECTED"]
        assert isinstance(expected, dict)
        qr = data["QR"]
        assert isinstance(qr, str)
        if expected["accepted"]:
            assert len(qr.strip()) <= 300
