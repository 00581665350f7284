"""Certificates for the fleet: a device CA, broker server certificates, device client certificates.

Device private keys are made on the device and never leave it: the device makes a CSR, the CA
signs it. ECDSA P-256 keys: small, fast on a Pi, and accepted by every TLS stack in the path.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class CertificateAuthority:
    """A CA certificate and its key, able to sign CSRs."""

    cert: x509.Certificate
    key: PrivateKey

    @classmethod
    def create(cls, name: str, *, days: int = 3650) -> CertificateAuthority:
        key = new_key()
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        return cls(cert, key)

    @classmethod
    def load(cls, cert_file: Path, key_file: Path) -> CertificateAuthority:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{key_file}: expected an EC private key")
        return cls(cert, key)

    def save(self, cert_file: Path, key_file: Path) -> None:
        write_key(key_file, self.key)
        cert_file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def sign(
        self,
        csr: x509.CertificateSigningRequest,
        *,
        server_names: list[str] | None = None,
        days: int = 825,
    ) -> x509.Certificate:
        """Sign a CSR as a client certificate, or as a server one when `server_names` is given."""
        if not csr.is_signature_valid:
            raise ValueError("the CSR's signature is invalid")
        now = _now()
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server_names else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(self.cert.subject)
            .public_key(csr.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        if server_names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_san(n) for n in server_names]), critical=False
            )
        return builder.sign(self.key, hashes.SHA256())


def new_key() -> PrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def make_csr(key: PrivateKey, common_name: str) -> x509.CertificateSigningRequest:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())


def write_key(path: Path, key: PrivateKey) -> None:
    """Write a private key readable by its owner only (0600 from the first byte)."""
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.chmod(path, 0o600)


def write_cert(path: Path, cert: x509.Certificate) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


@dataclass(frozen=True)
class IssuedFiles:
    """Where an identity's PEM files were written."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def issue_identity(
    ca: CertificateAuthority, directory: Path, name: str, *, server_names: list[str] | None = None
) -> IssuedFiles:
    """Make a key, CSR and signed certificate for `name` under `directory` (tests, simulation)."""
    key = new_key()
    cert = ca.sign(make_csr(key, name), server_names=server_names)
    files = IssuedFiles(directory / "ca.crt", directory / f"{name}.crt", directory / f"{name}.key")
    write_key(files.key_file, key)
    write_cert(files.cert_file, cert)
    write_cert(files.ca_file, ca.cert)
    return files


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
