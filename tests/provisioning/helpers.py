"""Shared helpers for the provisioning tests: run the CLI in-process, make a trust anchor."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provisioning.__main__ import main


@dataclass(frozen=True)
class Run:
    """One `provision` invocation: exit code and what it printed."""

    code: int
    out: str
    err: str


def provision(capsys: pytest.CaptureFixture[str], *argv: object) -> Run:
    """Run `provision ARGV` in this process and capture its output."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def trust_anchor() -> str:
    """A booking root public key in the form `backoffice booking keygen` prints."""
    raw = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return base64.b64encode(raw).decode()


def init_args(
    role: str, device_id: str, root: Path, ca: Path | None, *extra: str | Path
) -> list[str | Path]:
    """`device init` arguments for a device of `role` under `root` (kiosks get an anchor)."""
    args: list[str | Path] = [
        "device",
        "init",
        "--role",
        role,
        "--branch",
        "jakarta-salemba",
        "--id",
        device_id,
        "--root",
        root,
    ]
    if ca is not None:
        args += ["--ca", ca]
    if role == "kiosk":
        args += ["--trust-anchor", trust_anchor()]
    return [*args, *extra]


def failed_titles(out: str) -> set[str]:
    """The checks `provision check` lists under 'To fix:' (one '  - title: fix' line each)."""
    after = out.split("To fix:", 1)[1] if "To fix:" in out else ""
    return {line[4:].split(" — ", 1)[0] for line in after.splitlines() if line.startswith("  - ")}
