"""Opening a config's TLS files as the TLS stack will: one check for every tool and role."""

from __future__ import annotations

import ssl
import stat
from pathlib import Path
from typing import Literal

from configkit._load import Severity

FileProblem = tuple[str, str, str, Severity]


def tls_file_problems(
    ca: tuple[str, Path | None],
    cert: tuple[str, Path],
    key: tuple[str, Path],
    *,
    side: Literal["client", "server"],
    fix: str,
) -> list[FileProblem]:
    """Problems with a CA (optional), certificate and private key, each given as (config key,
    path): missing, not loadable by OpenSSL, not matching, or a key others can read (warning).

    Args:
        side: which end of TLS loads them (the context type used to load them).
        fix: how to install a missing file (said after "no such file; ").
    """
    (ca_key, ca_path), (cert_key, cert_path), (key_key, key_path) = ca, cert, key
    named = [(k, p) for k, p in (ca, cert, key) if p is not None]
    missing: list[FileProblem] = [
        (k, str(p), f"no such file; {fix}", "error") for k, p in named if not p.is_file()
    ]
    if missing:
        return missing
    problems: list[FileProblem] = []
    protocol = ssl.PROTOCOL_TLS_CLIENT if side == "client" else ssl.PROTOCOL_TLS_SERVER
    context = ssl.SSLContext(protocol)
    if ca_path is not None:
        try:
            context.load_verify_locations(cafile=str(ca_path))
        except (ssl.SSLError, OSError) as exc:
            message = f"not a usable CA certificate ({exc}); {fix}"
            problems.append((ca_key, str(ca_path), message, "error"))
    try:
        # An encrypted key would make OpenSSL prompt on the terminal: refuse it instead.
        context.load_cert_chain(str(cert_path), str(key_path), password=_no_password)
    except (ssl.SSLError, OSError, ValueError) as exc:
        problems.append(
            (
                cert_key,
                str(cert_path),
                f"certificate and {key_key} {key_path} do not load together ({exc}); "
                "install the certificate signed for this key (PEM, key unencrypted)",
                "error",
            )
        )
    mode = stat.S_IMODE(key_path.stat().st_mode)
    if mode & 0o077:
        problems.append(
            (
                key_key,
                str(key_path),
                f"mode {mode:04o}: others can read the private key; chmod 600 {key_path}",
                "warning",
            )
        )
    return problems


def _no_password() -> bytes:
    raise ValueError("the private key is encrypted; keys are stored unencrypted (mode 0600)")
