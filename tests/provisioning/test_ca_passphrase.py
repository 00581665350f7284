"""The fleet CA's key can be passphrase-protected: asked on a terminal or read from a file
descriptor, as the docs' USB-stick advice says."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provisioning import pki
from tests.provisioning.helpers import init_args, provision


def _fd(text: bytes) -> int:
    read, write = os.pipe()
    os.write(write, text)
    os.close(write)
    return read


def test_a_protected_ca_signs_only_with_its_passphrase(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pki, "passphrase_source", None)
    ca = tmp_path / "ca"
    fd = _fd(b"correct horse battery\n")
    made = provision(capsys, "--ca-passphrase-fd", fd, "ca", "init", "--dir", ca, "--passphrase")
    assert made.code == 0, made.err
    assert "encrypted with your passphrase" in made.out
    assert (ca / pki.CA_KEY).read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")

    # No terminal and no descriptor: one line saying how to give it, nothing half made.
    bare = provision(capsys, *init_args("dropbox", "dropbox-7", tmp_path / "a", ca))
    assert bare.code == 1
    assert "passphrase-protected" in bare.err and "--ca-passphrase-fd N" in bare.err
    assert not (tmp_path / "a" / "etc" / "lapak" / "pki" / "device.key").exists()

    wrong = provision(
        capsys,
        "--ca-passphrase-fd",
        _fd(b"wrong"),
        *init_args("dropbox", "dropbox-7", tmp_path / "b", ca),
    )
    assert wrong.code == 1 and "wrong passphrase" in wrong.err

    # A descriptor the shell did not open ("[Errno 9] Bad file descriptor"), or one that never
    # ends (/dev/zero was read until memory ran out): its own line, not "wrong passphrase".
    endless = os.open("/dev/zero", os.O_RDONLY)
    unopened = 1000  # far above what this process opens, and not open now:
    with pytest.raises(OSError):
        os.fstat(unopened)
    for fd, said in [(unopened, "cannot read it (Bad file descriptor)"),
                     (endless, "more than 4096 bytes to read")]:  # fmt: skip
        run = provision(
            capsys, "--ca-passphrase-fd", fd, *init_args("dropbox", "dropbox-7", tmp_path / "d", ca)
        )
        assert run.code == 2 and f"--ca-passphrase-fd {fd}: {said}" in run.err
        assert not (tmp_path / "d" / "etc" / "lapak" / "pki" / "device.key").exists()
    os.close(endless)

    good = provision(
        capsys,
        "--ca-passphrase-fd",
        _fd(b"correct horse battery"),
        *init_args("dropbox", "dropbox-7", tmp_path / "c", ca),
    )
    assert good.code == 0, good.err
    assert (tmp_path / "c" / "etc" / "lapak" / "pki" / "device.crt").exists()
