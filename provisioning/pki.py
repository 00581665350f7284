"""Certificates for the fleet: a device CA, broker server certificates, device client certificates.

Device private keys are made on the device and never leave it: the device makes a CSR, the CA
signs it. ECDSA P-256 keys: small, fast on a Pi, and accepted by every TLS stack in the path.

A device's certificate names who it is: CN the device id, OU its role (kiosk, dropbox), L its
branch office. The CA records the three in its index when it signs, and `provision fleet
registry` exports them for the back office: what a device may do there (check in a branch's
bookings, read its day list) follows from the identity it was provisioned with, never from
what it says in a message.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from configkit import read_small_file
from provisioning.errors import InvalidSetup, ProvisionError, Refused
from uplink.branches import BranchIdError, check_branch_id

PrivateKey = ec.EllipticCurvePrivateKey

# Where the CA key's passphrase comes from when the key is encrypted: `provision` sets it (from
# --ca-passphrase-fd, or a prompt on a terminal). None: there is no way to ask.
PassphraseSource = Callable[[], bytes]
passphrase_source: PassphraseSource | None = None

# Certificates and CRLs start a day before they are made: a Pi has no clock battery, and after a
# power cut without network it runs on fake-hwclock's last saved time (hours or a day behind)
# until NTP answers. It must still be able to connect to the broker that would set its clock.
BACKDATE = dt.timedelta(days=1)
MAX_DAYS = 36_500  # 100 years: beyond that a validity is a typo (and x509 dates end in 9999)
MAX_CSR_BYTES = 64 * 1024  # a CSR is about 1 kB; more is not one
# A certificate, key or CRL a person names (`check --crl`, `install-cert`): a fleet's CRL of
# tens of thousands of revocations stays well under it; /dev/zero is refused.
MAX_PEM_BYTES = 16 * 1024 * 1024


def check_days(days: int, what: str) -> int:
    """`days` if it is a usable validity for `what`, else `InvalidSetup` saying the range."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidSetup(
            f"--days {days}: the {what} must be valid for 1 to {MAX_DAYS} days; "
            "give e.g. --days 3650"
        )
    return days


@dataclass(frozen=True)
class CertificateAuthority:
    """A CA certificate and its key, able to sign CSRs."""

    cert: x509.Certificate
    key: PrivateKey

    @classmethod
    def create(cls, name: str, *, days: int = 3650) -> CertificateAuthority:
        check_days(days, "CA certificate")
        key = new_key()
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
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
        pem = key_file.read_bytes()
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except TypeError:  # encrypted: `provision ca init --passphrase` made it
            key = _load_protected(key_file, pem)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{key_file}: expected an EC private key")
        return cls(cert, key)

    def save(self, cert_file: Path, key_file: Path, passphrase: bytes | None = None) -> None:
        write_key(key_file, self.key, passphrase)
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
        check_days(days, "certificate")
        now = _now()
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server_names else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(self.cert.subject)
            .public_key(csr.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
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


DEVICE_ROLES = ("kiosk", "dropbox")


def make_csr(
    key: PrivateKey, common_name: str, *, role: str | None = None, branch: str | None = None
) -> x509.CertificateSigningRequest:
    """A CSR for `common_name`; a device's also names its role (OU) and branch (L)."""
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if role is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role))
    if branch is not None:
        attributes.append(x509.NameAttribute(NameOID.LOCALITY_NAME, branch))
    subject = x509.Name(attributes)
    return x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())


def device_identity(name: x509.Name) -> tuple[str | None, str | None]:
    """The (role, branch) a device's subject names (OU, L); None for what it does not name.

    Raises:
        PkiError: the subject names a role that is no device role, or a malformed branch id,
            or either twice (a subject is read one way only).
    """
    role = _single(name, NameOID.ORGANIZATIONAL_UNIT_NAME, "OU")
    branch = _single(name, NameOID.LOCALITY_NAME, "L")
    if role is not None and role not in DEVICE_ROLES:
        raise PkiError(
            f"the subject's OU {role[:40]!r} is no device role ({', '.join(DEVICE_ROLES)})"
        )
    if branch is not None:
        try:
            check_branch_id(branch)
        except BranchIdError as exc:
            raise PkiError(f"the subject's L (branch): {exc}") from None
    return role, branch


def _single(name: x509.Name, oid: x509.ObjectIdentifier, label: str) -> str | None:
    values = name.get_attributes_for_oid(oid)
    if len(values) > 1:
        raise PkiError(f"the subject has {len(values)} {label} attributes; a device has one")
    return str(values[0].value) if values else None


def write_key(path: Path, key: PrivateKey, passphrase: bytes | None = None) -> None:
    """Write a private key readable by its owner only (0600 from the first byte), encrypted
    with `passphrase` when one is given (the fleet CA's key on its USB stick)."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
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


# -- A CA kept in a directory: issued-certificate index, rotation, revocation, CRL -------------

CA_CERT = "ca.crt"
CA_KEY = "ca.key"
CA_INDEX = "index.json"
CA_CRL = "crl.pem"
DEFAULT_CRL_DAYS = 365

RevocationReason = Literal["unspecified", "key_compromise", "superseded", "cessation_of_operation"]
_REASON_FLAGS: dict[str, x509.ReasonFlags] = {
    "unspecified": x509.ReasonFlags.unspecified,
    "key_compromise": x509.ReasonFlags.key_compromise,
    "superseded": x509.ReasonFlags.superseded,
    "cessation_of_operation": x509.ReasonFlags.cessation_of_operation,
}


class PkiError(ProvisionError):
    """A CA, key, CSR or certificate problem; the message says what to do."""


class DuplicateIdentity(PkiError, Refused):
    """The CA already has a valid certificate for this name."""


class UnknownCertificate(PkiError, LookupError):
    """No certificate with this name or serial in the CA's index."""


@dataclass(frozen=True)
class IssuedRecord:
    """One line of a CA directory's index."""

    serial: str
    name: str
    kind: Literal["client", "server"]
    not_after: str
    issued_at: str
    revoked_at: str | None = None
    reason: str | None = None
    role: str | None = None  # a device's OU, recorded at issue (None: a server, or issued before)
    branch: str | None = None  # a device's L: the branch office it was provisioned for

    @property
    def active(self) -> bool:
        """Not revoked and not expired."""
        return self.revoked_at is None and dt.datetime.fromisoformat(self.not_after) > _now()


class CADirectory:
    """A device CA kept in one directory: ca.crt, ca.key (0600), index.json, crl.pem.

    For test benches and small deployments; an agency PKI can sign the same CSRs instead. Every
    certificate issued is indexed so that duplicates are refused, rotation revokes what it
    replaces, and the CRL (loaded by mosquitto's `crlfile`) lists every revoked serial.
    """

    def __init__(self, directory: Path, ca: CertificateAuthority | None = None) -> None:
        self.directory = directory
        for name in (CA_CERT, CA_KEY):
            if not (directory / name).exists():
                raise PkiError(
                    f"{directory}: no {name}; create the CA with "
                    f"`provision ca init --dir {directory}`"
                )
        self.ca = ca or CertificateAuthority.load(directory / CA_CERT, directory / CA_KEY)

    @classmethod
    def init(
        cls, directory: Path, name: str, *, days: int = 3650, passphrase: bytes | None = None
    ) -> CADirectory:
        """Create a new CA in `directory` (refuses to overwrite an existing one).

        A failure leaves nothing behind: a folder it made is removed again.
        """
        if (directory / CA_KEY).exists() or (directory / CA_CERT).exists():
            raise PkiError(
                f"{directory} already holds a CA; use it, or choose another --dir "
                "(replacing a CA cuts off every device it signed)"
            )
        check_days(days, "CA certificate")
        ca = CertificateAuthority.create(name, days=days)
        created = not directory.exists()
        written: list[Path] = []
        try:
            directory.mkdir(parents=True, exist_ok=True)
            os.chmod(directory, 0o700)
            written += [directory / CA_CERT, directory / CA_KEY]
            ca.save(directory / CA_CERT, directory / CA_KEY, passphrase)
            written.append(directory / CA_INDEX)
            (directory / CA_INDEX).write_text("[]\n")
            made = cls(directory, ca)
            written.append(directory / CA_CRL)
            made.write_crl()
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            if created and directory.is_dir() and not any(directory.iterdir()):
                directory.rmdir()
            raise
        return made

    @property
    def cert_file(self) -> Path:
        return self.directory / CA_CERT

    @property
    def crl_file(self) -> Path:
        return self.directory / CA_CRL

    def records(self) -> list[IssuedRecord]:
        """Every certificate this CA issued, oldest first."""
        path = self.directory / CA_INDEX
        if not path.exists():
            return []
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(rows, list):
                raise TypeError("not a list of records")
            return [IssuedRecord(**row) for row in rows]
        except (ValueError, TypeError) as exc:
            raise PkiError(
                f"{path}: the CA's index of issued certificates is damaged ({exc}); restore it "
                "from the CA's backup (issuing without it could duplicate or miss revocations)"
            ) from None

    def active(self, name: str) -> list[IssuedRecord]:
        """The valid (unrevoked, unexpired) certificates issued for `name`."""
        return [r for r in self.records() if r.name == name and r.active]

    def issue(
        self,
        csr: x509.CertificateSigningRequest,
        *,
        server_names: list[str] | None = None,
        days: int = 825,
        rotate: bool = False,
    ) -> x509.Certificate:
        """Sign a CSR and index the certificate.

        Args:
            csr: the request, made where the private key lives.
            server_names: DNS names or addresses for a server certificate (a broker).
            days: validity of the certificate.
            rotate: replace the name's valid certificate(s), revoking them as superseded.

        Raises:
            DuplicateIdentity: the name already has a valid certificate and `rotate` is False.
            PkiError: the CSR has no common name, or its signature is invalid.
        """
        name = common_name(csr.subject)
        if name is None:
            raise PkiError("the CSR has no common name (CN); make it with the device id as CN")
        role, branch = device_identity(csr.subject)
        existing = self.active(name)
        if existing and not rotate:
            raise DuplicateIdentity(
                f"{name!r} already has a valid certificate (serial {existing[-1].serial}); "
                f"a second device with the same identity would take over its broker session. "
                f"Choose another id, rotate it (`provision device rotate`), or revoke it first "
                f"(`provision ca revoke --dir {self.directory} --name {name}`)"
            )
        try:
            cert = self.ca.sign(csr, server_names=server_names, days=days)
        except ValueError as exc:
            raise PkiError(f"cannot sign the CSR for {name!r}: {exc}") from exc
        record = IssuedRecord(
            serial=f"{cert.serial_number:x}",
            name=name,
            kind="server" if server_names else "client",
            not_after=cert.not_valid_after_utc.isoformat(),
            issued_at=_now().isoformat(),
            role=None if server_names else role,
            branch=None if server_names else branch,
        )
        records = self.records()
        if rotate:
            records = [
                _revoked(r, "superseded") if r.name == name and r.active else r for r in records
            ]
        self._save([*records, record])
        write_cert(self.directory / "issued" / f"{record.serial}.crt", cert)
        if rotate and existing:
            self.write_crl()
        return cert

    def revoke(
        self,
        *,
        name: str | None = None,
        serial: str | None = None,
        reason: RevocationReason = "unspecified",
    ) -> list[IssuedRecord]:
        """Revoke by name (all its valid certificates) or by serial; rewrites the CRL.

        Raises:
            UnknownCertificate: nothing valid matches.
        """
        serial = serial.lower().lstrip("0") if serial else None
        hit: list[IssuedRecord] = []
        records = []
        for record in self.records():
            matches = (name is not None and record.name == name) or (
                serial is not None and record.serial.lstrip("0") == serial
            )
            if matches and record.revoked_at is None:
                record = _revoked(record, reason)
                hit.append(record)
            records.append(record)
        if not hit:
            what = f"name {name!r}" if name else f"serial {serial}"
            raise UnknownCertificate(
                f"no unrevoked certificate with {what} in {self.directory / CA_INDEX}; "
                "see `provision ca list`"
            )
        self._save(records)
        self.write_crl()
        return hit

    def crl(self, *, days: int = DEFAULT_CRL_DAYS) -> x509.CertificateRevocationList:
        """A CRL signed by this CA listing every revoked certificate."""
        check_days(days, "CRL")
        now = _now()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.ca.cert.subject)
            .last_update(now - BACKDATE)
            .next_update(now + dt.timedelta(days=days))
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca.key.public_key()),
                critical=False,
            )
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
        )
        for record in self.records():
            if record.revoked_at is None:
                continue
            revoked = (
                x509.RevokedCertificateBuilder()
                .serial_number(int(record.serial, 16))
                .revocation_date(dt.datetime.fromisoformat(record.revoked_at))
                .add_extension(
                    x509.CRLReason(
                        _REASON_FLAGS.get(record.reason or "", x509.ReasonFlags.unspecified)
                    ),
                    critical=False,
                )
                .build()
            )
            builder = builder.add_revoked_certificate(revoked)
        return builder.sign(self.ca.key, hashes.SHA256())

    def write_crl(self, *, days: int = DEFAULT_CRL_DAYS) -> Path:
        """Write crl.pem (atomically: mosquitto may be reading it). Returns its path."""
        pem = self.crl(days=days).public_bytes(serialization.Encoding.PEM)
        tmp = self.crl_file.with_suffix(".tmp")
        tmp.write_bytes(pem)
        os.chmod(tmp, 0o644)
        tmp.replace(self.crl_file)
        return self.crl_file

    def _save(self, records: list[IssuedRecord]) -> None:
        path = self.directory / CA_INDEX
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps([asdict(r) for r in records], indent=1) + "\n")
        tmp.replace(path)


def common_name(name: x509.Name) -> str | None:
    """The first CN of a subject, or None."""
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else None


def load_csr(path: Path) -> x509.CertificateSigningRequest:
    """Read a PEM CSR.

    Raises:
        PkiError: the file is missing or not a PEM CSR.
    """
    try:
        # Bounded: `--csr /dev/zero` was read until memory ran out (a CSR is about 1 kB).
        return x509.load_pem_x509_csr(read_small_file(path, MAX_CSR_BYTES))
    except (OSError, ValueError) as exc:
        raise PkiError(f"{path}: not a readable PEM certificate request ({exc})") from exc


def load_cert(path: Path) -> x509.Certificate:
    """Read a PEM certificate.

    Raises:
        PkiError: the file is missing or not a PEM certificate.
    """
    try:
        return x509.load_pem_x509_certificate(read_small_file(path, MAX_PEM_BYTES))
    except (OSError, ValueError) as exc:
        raise PkiError(f"{path}: not a readable PEM certificate ({exc})") from exc


def _load_protected(key_file: Path, pem: bytes) -> PrivateKey:
    """The CA key behind its passphrase, asked from `passphrase_source`."""
    if passphrase_source is None:
        raise PkiError(
            f"{key_file} is passphrase-protected: run provision on a terminal to be asked for "
            "it, or pass it on a file descriptor (--ca-passphrase-fd N)"
        )
    password = passphrase_source()  # its own refusals (an unreadable descriptor) say theirs
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except ValueError:
        raise PkiError(f"{key_file}: wrong passphrase") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PkiError(f"{key_file}: expected an EC (P-256) private key")
    return key


def load_key(path: Path) -> PrivateKey:
    """Read an unencrypted EC private key (PEM).

    Raises:
        PkiError: the file is missing, encrypted, or not an EC key.
    """
    try:
        key = serialization.load_pem_private_key(
            read_small_file(path, MAX_PEM_BYTES), password=None
        )
    except (OSError, ValueError, TypeError) as exc:
        raise PkiError(f"{path}: not a readable unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PkiError(f"{path}: expected an EC (P-256) private key")
    return key


def same_public_key(cert: x509.Certificate, key: PrivateKey) -> bool:
    """True when `cert` certifies `key`'s public half."""
    der = serialization.Encoding.DER
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return cert.public_key().public_bytes(der, spki) == key.public_key().public_bytes(der, spki)


def _revoked(record: IssuedRecord, reason: str) -> IssuedRecord:
    return replace(record, revoked_at=_now().isoformat(), reason=reason)


def write_csr(path: Path, csr: x509.CertificateSigningRequest) -> None:
    """Write a CSR as PEM (it holds no secret)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csr.public_bytes(serialization.Encoding.PEM))


def load_crl(path: Path) -> x509.CertificateRevocationList:
    """Read a PEM CRL (as mosquitto's `crlfile` holds it).

    Raises:
        PkiError: the file is missing or not a PEM CRL.
    """
    try:
        return x509.load_pem_x509_crl(read_small_file(path, MAX_PEM_BYTES))
    except (OSError, ValueError) as exc:
        raise PkiError(f"{path}: not a readable PEM CRL ({exc})") from exc
