"""The CA directory: issuing, duplicate refusal, rotation, revocation and the CRL."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from provisioning import pki
from provisioning.errors import Refused


def _csr(name: str) -> x509.CertificateSigningRequest:
    return pki.make_csr(pki.new_key(), name)


def _crl_serials(ca: pki.CADirectory) -> set[int]:
    crl = x509.load_pem_x509_crl(ca.crl_file.read_bytes())
    assert crl.is_signature_valid(ca.ca.cert.public_key())  # type: ignore[arg-type]
    return {revoked.serial_number for revoked in crl}


def test_init_makes_a_private_key_and_an_empty_signed_crl(tmp_path: Path) -> None:
    ca = pki.CADirectory.init(tmp_path / "ca", "Test CA")

    assert stat.S_IMODE((tmp_path / "ca" / pki.CA_KEY).stat().st_mode) == 0o600
    assert _crl_serials(ca) == set()
    assert ca.records() == []


def test_init_refuses_to_replace_an_existing_ca(tmp_path: Path) -> None:
    pki.CADirectory.init(tmp_path / "ca", "Test CA")
    with pytest.raises(pki.PkiError, match="already holds a CA"):
        pki.CADirectory.init(tmp_path / "ca", "Other CA")


def test_a_second_certificate_for_the_same_id_is_refused(tmp_path: Path) -> None:
    ca = pki.CADirectory.init(tmp_path / "ca", "Test CA")
    ca.issue(_csr("kiosk-1"))

    with pytest.raises(pki.DuplicateIdentity, match="kiosk-1") as refused:
        ca.issue(_csr("kiosk-1"))
    assert isinstance(refused.value, Refused)
    assert len(ca.active("kiosk-1")) == 1


def test_rotation_revokes_the_superseded_certificate_in_the_crl(tmp_path: Path) -> None:
    ca = pki.CADirectory.init(tmp_path / "ca", "Test CA")
    old = ca.issue(_csr("kiosk-1"))

    new = ca.issue(_csr("kiosk-1"), rotate=True)

    assert [r.serial for r in ca.active("kiosk-1")] == [f"{new.serial_number:x}"]
    assert _crl_serials(ca) == {old.serial_number}
    revoked = [r for r in ca.records() if r.revoked_at]
    assert [r.reason for r in revoked] == ["superseded"]


def test_revoke_by_name_and_by_serial_both_reach_the_crl(tmp_path: Path) -> None:
    ca = pki.CADirectory.init(tmp_path / "ca", "Test CA")
    one = ca.issue(_csr("kiosk-1"))
    two = ca.issue(_csr("dropbox-1"))

    ca.revoke(name="kiosk-1", reason="key_compromise")
    ca.revoke(serial=f"{two.serial_number:X}")

    assert _crl_serials(ca) == {one.serial_number, two.serial_number}
    assert ca.active("kiosk-1") == []
    ca.issue(_csr("kiosk-1"))  # a revoked id may be issued again (a replaced device)


def test_revoking_something_unknown_says_where_to_look(tmp_path: Path) -> None:
    ca = pki.CADirectory.init(tmp_path / "ca", "Test CA")
    with pytest.raises(pki.UnknownCertificate, match="provision ca list"):
        ca.revoke(name="nobody")


def test_a_csr_without_common_name_is_refused(tmp_path: Path) -> None:
    ca = pki.CADirectory.init(tmp_path / "ca", "Test CA")
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(pki.new_key(), hashes.SHA256())
    )
    with pytest.raises(pki.PkiError, match="common name"):
        ca.issue(csr)
