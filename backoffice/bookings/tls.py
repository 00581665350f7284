"""The booking API's TLS: mutual TLS with the fleet CA, revoked client certificates refused.

With `api.client_crl_file` (the fleet CA's crl.pem, as the brokers' `crlfile`) OpenSSL checks
each client certificate against the CRL during the handshake (`VERIFY_CRL_CHECK_LEAF`): a
revoked kiosk's connection fails there, before any route is read, whatever the device
registry says. `provision ca revoke` rewrites the CRL; copied here, it is read again on the next
connection (the file's size, time and inode are compared per connection, a `stat`), with no
restart. A CRL that cannot be read then is logged and the last good one stays in force.

OpenSSL refuses every client while the CRL is past its next update (as mosquitto does), so
`crl_problems` fails a CRL that has run out and warns 30 days ahead (`configkit.expiry`'s rule,
as `provision check` says it of the brokers' copy).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from configkit.expiry import Due, assess_crl

logger = logging.getLogger(__name__)

RENEW = "re-sign it on the CA (`provision ca crl --dir CA`) and copy its crl.pem here"


@dataclass(frozen=True)
class TlsFiles:
    """The API's TLS files (paths from `api`)."""

    cert_file: Path
    key_file: Path
    client_ca_file: Path | None = None
    client_crl_file: Path | None = None


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """A server context: TLS 1.2 or later, client certificates required when a client CA is
    given, checked against the CRL when one is given.

    Raises:
        ssl.SSLError, OSError: a file cannot be loaded (the config check says which first).
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(files.cert_file), str(files.key_file))
    if files.client_ca_file is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=str(files.client_ca_file))
        if files.client_crl_file is not None:
            context.load_verify_locations(cafile=str(files.client_crl_file))
            context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    return context


class ServerTls:
    """The context new connections get: rebuilt when the CRL file changes.

    Called from the server's accept loop only (one thread)."""

    def __init__(self, files: TlsFiles) -> None:
        """Build the first context (raises as `server_context`; ValueError: a garbled CRL)."""
        self.files = files
        self._seen = self._crl_stamp()
        self._context, self._next_update = self._load()

    def context(self) -> ssl.SSLContext:
        """The context for a connection accepted now."""
        self.refresh()
        return self._context

    def crl_next_update(self) -> dt.datetime | None:
        """The next update of the CRL in force now (None: no CRL, or it names none)."""
        self.refresh()
        return self._next_update

    def refresh(self) -> None:
        """Read the CRL again if its file changed since it was last read."""
        stamp = self._crl_stamp()
        if stamp == self._seen:
            return
        self._seen = stamp
        try:
            self._context, self._next_update = self._load()
        except (ssl.SSLError, OSError, ValueError) as exc:
            logger.error(
                "the client CRL %s could not be read again (%s); the last good one stays in "
                "force: copy a whole crl.pem there (write it beside, then rename it over)",
                self.files.client_crl_file,
                exc,
            )
        else:
            logger.info("client CRL %s read again", self.files.client_crl_file)

    def _load(self) -> tuple[ssl.SSLContext, dt.datetime | None]:
        """The context and its CRL's next update (one replaced in between is read again at its
        next stamp)."""
        crl_file = self.files.client_crl_file
        next_update = None
        if crl_file is not None and self.files.client_ca_file is not None:
            next_update = x509.load_pem_x509_crl(crl_file.read_bytes()).next_update_utc
        return server_context(self.files), next_update

    def _crl_stamp(self) -> tuple[int, int, int] | None:
        if self.files.client_crl_file is None:
            return None
        try:
            st = os.stat(self.files.client_crl_file)
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)


Severity = Literal["error", "warning"]


def crl_problems(ca_file: Path, crl_file: Path, now: dt.datetime) -> list[tuple[Severity, str]]:
    """What stops `crl_file` from working as the CRL of `ca_file`'s certificates, as
    (severity, message): not a PEM CRL, not signed by that CA, past its next update (error:
    OpenSSL would refuse every client), or due within 30 days (warning)."""
    try:
        crl = x509.load_pem_x509_crl(crl_file.read_bytes())
    except (OSError, ValueError) as exc:
        return [("error", f"not a readable PEM CRL ({exc}); copy the CA's crl.pem here")]
    try:
        ca = x509.load_pem_x509_certificate(ca_file.read_bytes())
    except (OSError, ValueError):
        return []  # client_ca_file's own problem, said there
    key = ca.public_key()
    try:
        signed = isinstance(
            key,
            rsa.RSAPublicKey
            | ec.EllipticCurvePublicKey
            | ed25519.Ed25519PublicKey
            | ed448.Ed448PublicKey,
        ) and crl.is_signature_valid(key)
    except (InvalidSignature, UnsupportedAlgorithm, TypeError):
        signed = False
    if not signed:
        return [
            (
                "error",
                f"not signed by client_ca_file {ca_file} (OpenSSL would refuse every client); "
                "copy the crl.pem of the CA that issued the kiosks' certificates",
            )
        ]
    next_update = crl.next_update_utc
    if next_update is None:
        return []
    due = crl_due(next_update, now)
    if due.status == "pass":
        return []
    return [("error" if due.status == "fail" else "warning", crl_alert(due))]


def crl_due(next_update: dt.datetime, now: dt.datetime) -> Due:
    """How the API's client CRL, next updated at `next_update`, stands at `now`."""
    return assess_crl("client CRL", next_update, now, RENEW)


def crl_alert(due: Due) -> str:
    """What a CRL that is due (or past due) means for the kiosks, and its fix, in one line."""
    if due.status == "fail":
        return f"{due.detail}: every client is refused at the handshake; {RENEW}"
    return f"{due.detail}: from then every client is refused; {RENEW}"
