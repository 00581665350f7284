"""Secrets as salted hashes in configs: one scheme for dropbox officers and kiosk staff."""

from __future__ import annotations

import pytest

from configkit.hashed import MAX_ITERATIONS, check_hash_format, hash_secret, verify_secret


def test_a_hash_matches_its_secret_only_and_never_contains_it() -> None:
    hashed = hash_secret("2468", iterations=1000)
    assert "2468" not in hashed
    assert verify_secret("2468", hashed)
    assert not verify_secret("2469", hashed)
    assert not verify_secret("", hashed)
    assert hash_secret("2468", iterations=1000) != hashed  # salted: a new salt every time


@pytest.mark.parametrize(
    "value",
    ["2468", "pbkdf2_sha256$x$c2FsdA==$aGFzaA==", "md5$1000$c2FsdA==$aGFzaA==",
     f"pbkdf2_sha256${MAX_ITERATIONS + 1}$c2FsdA==$aGFzaA==", "pbkdf2_sha256$1000$!!$aGFzaA=="],
)  # fmt: skip
def test_anything_but_a_hash_is_refused_naming_the_command_that_makes_one(value: str) -> None:
    with pytest.raises(ValueError, match="make one with `kiosk hash-pin`"):
        check_hash_format(value, made_by="kiosk hash-pin")
