"""Private Ed25519 keys on disk: the trust-list root and the booking signing keys (files 0600)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from backoffice.errors import BackofficeError
from uplink.booking.trustlist import key_id

ROOT_FILE = "root.pem"


class KeyStoreError(BackofficeError, RuntimeError):
    """A key file is missing, unreadable, of the wrong type, or readable by others."""


class KeyStore:
    """A directory of PEM (PKCS#8) Ed25519 private keys, readable by the owner only."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def root(self, *, create: bool = False) -> Ed25519PrivateKey:
        """The trust-list root key; created on first use when `create` is set.

        Raises:
            KeyStoreError: missing (and not created), or unsafe permissions.
        """
        path = self.directory / ROOT_FILE
        if not path.exists() and create:
            self._write(path, Ed25519PrivateKey.generate())
        return self._read(path)

    def new_signing_key(self) -> tuple[bytes, Ed25519PrivateKey]:
        """Generate and store a signing key; returns (key id, key).

        The 4-byte key id is derived from the key; one that collides with a stored key's id is
        discarded and another key generated, so ids stay unique.
        """
        while True:
            key = Ed25519PrivateKey.generate()
            kid = key_id(key.public_key())
            path = self.directory / f"signing-{kid.hex()}.pem"
            if not path.exists():
                self._write(path, key)
                return kid, key

    def signing_key(self, kid: bytes) -> Ed25519PrivateKey:
        """The signing key with this id.

        Raises:
            KeyStoreError: no such key file, or unsafe permissions.
        """
        return self._read(self.directory / f"signing-{kid.hex()}.pem")

    def _write(self, path: Path, key: Ed25519PrivateKey) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())

    def _read(self, path: Path) -> Ed25519PrivateKey:
        try:
            mode = path.stat().st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise KeyStoreError(
                    f"{path} is readable by other users (mode {stat.S_IMODE(mode):o}); "
                    f"run: chmod 600 {path}"
                )
            key = load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError:
            raise KeyStoreError(
                f"{path} does not exist; run `backoffice booking keygen` first"
            ) from None
        except ValueError as exc:
            raise KeyStoreError(f"{path} is not a PEM private key: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyStoreError(f"{path} is not an Ed25519 key")
        return key
