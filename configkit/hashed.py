"""Secrets in config files as salted PBKDF2 hashes: made by a tool's hash command, checked in
constant time. A config never holds an officer's PIN or badge code itself.

Format: ``pbkdf2_sha256$<iterations>$<salt, base64>$<hash, base64>`` (the dropbox's officer
PINs and badges, the kiosk's staff PIN).
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import os
import sys

HASH_SCHEME = "pbkdf2_sha256"
DEFAULT_ITERATIONS = 200_000
MAX_ITERATIONS = 10_000_000  # a config cannot make the device hash for minutes


def hash_secret(
    secret: str, *, iterations: int = DEFAULT_ITERATIONS, salt: bytes | None = None
) -> str:
    """A PBKDF2 hash for the config file: ``pbkdf2_sha256$<iterations>$<salt>$<hash>``."""
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, iterations)
    return "$".join((HASH_SCHEME, str(iterations), _b64(salt), _b64(digest)))


def check_hash_format(value: str, *, made_by: str = "dropbox-agent hash-secret") -> str:
    """Return `value` if it is a hash made by `hash_secret`, else raise ValueError saying how to
    make one (`made_by`: the command that does)."""
    parts = value.split("$")
    ok = len(parts) == 4 and parts[0] == HASH_SCHEME and parts[1].isdigit()
    ok = ok and 0 < int(parts[1]) <= MAX_ITERATIONS
    if ok:
        try:
            base64.b64decode(parts[2], validate=True)
            base64.b64decode(parts[3], validate=True)
        except ValueError:
            ok = False
    if not ok:
        raise ValueError(
            f"not a secret hash; make one with `{made_by}` "
            f"(format {HASH_SCHEME}$iterations$salt$hash)"
        )
    return value


def verify_secret(secret: str, hashed: str) -> bool:
    """True when `secret` matches `hashed` (constant-time comparison)."""
    scheme, iterations, salt, digest = hashed.split("$")
    if scheme != HASH_SCHEME:
        return False
    actual = hashlib.pbkdf2_hmac("sha256", secret.encode(), base64.b64decode(salt), int(iterations))
    return hmac.compare_digest(actual, base64.b64decode(digest))


def ask_secret(*, from_stdin: bool, prompt: str) -> str | None:
    """The secret to hash: one line of stdin, or typed twice without echo (None: they differ
    or it is empty, already said on stderr)."""
    if from_stdin:
        secret = sys.stdin.readline().strip()
    else:
        secret = getpass.getpass(prompt)
        if getpass.getpass("Ulangi / repeat: ") != secret:
            print("tidak sama / the two entries differ", file=sys.stderr)
            return None
    if not secret:
        print("kosong / empty secret", file=sys.stderr)
        return None
    return secret


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
