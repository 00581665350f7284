"""`provision ca ...` and `provision device ...`: what they write, and every refusal."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography import x509

from configkit import load
from dropbox_agent.config import DropboxConfig
from kiosk.config import KioskConfig
from provisioning import device, pki
from tests.provisioning.helpers import Run, init_args, provision, trust_anchor

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3


@pytest.fixture
def ca_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    directory = tmp_path / "ca"
    assert provision(capsys, "ca", "init", "--dir", directory, "--name", "Test CA").code == 0
    return directory


def _crl_serials(ca_dir: Path) -> set[int]:
    crl = x509.load_pem_x509_crl((ca_dir / pki.CA_CRL).read_bytes())
    return {r.serial_number for r in crl}


def _nothing_made(root: Path, ca_dir: Path, device_id: str) -> None:
    """A refused `device init` leaves no key on the device and no certificate at the CA."""
    assert not list(root.rglob("*.key")), "a refused init left a private key behind"
    assert not (root / "etc/lapak/device.toml").exists()
    assert pki.CADirectory(ca_dir).active(device_id) == []


# -- what device init makes -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["kiosk", "dropbox"])
def test_device_init_makes_a_private_key_a_certificate_and_a_config_the_app_accepts(
    role: str, tmp_path: Path, ca_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "dev"
    run = provision(capsys, *init_args(role, f"{role}-1", root, ca_dir))

    assert run.code == EXIT_OK, run.err
    layout = device.Layout(root)
    assert stat.S_IMODE(layout.key_file.stat().st_mode) == 0o600
    cert = pki.load_cert(layout.cert_file)
    assert pki.common_name(cert.subject) == f"{role}-1"
    assert pki.same_public_key(cert, pki.load_key(layout.key_file))
    model: type[KioskConfig | DropboxConfig] = KioskConfig if role == "kiosk" else DropboxConfig
    uplink = load(model, layout.config_file(role)).uplink
    assert uplink.device_id == f"{role}-1"
    assert uplink.broker.tls and uplink.broker.key_file == layout.key_file
    assert uplink.outbox_path.parent == layout.state_dir(role)
    assert device.load_record(layout).role == role


def test_set_edits_the_role_config_and_a_bad_value_is_a_usage_error(
    tmp_path: Path, ca_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "box"
    run = provision(
        capsys,
        *init_args("dropbox", "dropbox-1", root, ca_dir, "--set", "pins.beam=4"),
        "--set",
        "timezone=Asia/Makassar",
    )
    assert run.code == EXIT_OK, run.err
    config = load(DropboxConfig, device.Layout(root).config_file("dropbox"))
    assert config.pins.beam == 4 and config.timezone == "Asia/Makassar"

    clash = provision(
        capsys, *init_args("dropbox", "dropbox-2", tmp_path / "b2", ca_dir, "--set", "pins.beam=27")
    )
    assert clash.code == EXIT_USAGE
    assert "GPIO27 is used by beam and door" in clash.err
    _nothing_made(tmp_path / "b2", ca_dir, "dropbox-2")


def test_csr_flow_without_a_local_ca_install_cert_and_rotation(
    tmp_path: Path, ca_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "dev"
    assert provision(capsys, *init_args("dropbox", "dropbox-1", root, None)).code == EXIT_OK
    layout = device.Layout(root)
    assert layout.csr_file.exists() and not layout.cert_file.exists()
    signed = tmp_path / "dropbox-1.crt"
    issue = ["ca", "issue", "--dir", ca_dir, "--csr", layout.csr_file, "--out", signed]
    assert provision(capsys, *issue).code == EXIT_OK

    install = ["device", "install-cert", "--root", root, "--cert", signed]
    run = provision(capsys, *install, "--ca-cert", ca_dir / pki.CA_CERT)
    assert run.code == EXIT_OK, run.err
    assert "installed" in run.out
    old_serial = pki.load_cert(layout.cert_file).serial_number

    run = provision(capsys, "device", "rotate", "--root", root, "--ca", ca_dir)
    assert run.code == EXIT_OK, run.err
    new = pki.load_cert(layout.cert_file)
    assert new.serial_number != old_serial
    assert pki.same_public_key(new, pki.load_key(layout.key_file))
    assert _crl_serials(ca_dir) == {old_serial}
    assert not layout.new_key_file.exists()


# -- refusals (exit 3) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--id", "Kiosk-1"),
        ("--id", "kiosk/1"),
        ("--id", "kiosk+"),
        ("--id", "kiosk_1"),
        ("--id", "kiosk#"),
        ("--branch", "jkt 01"),
    ],
)
def test_ids_that_are_unsafe_in_topics_are_refused(
    option: str, value: str, tmp_path: Path, ca_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = init_args("dropbox", "dropbox-1", tmp_path / "dev", ca_dir)
    args[args.index(option) + 1] = value

    run = provision(capsys, *args)

    assert run.code == EXIT_REFUSED
    assert f"{value!r} is not allowed" in run.err
    assert "a-z, 0-9 and '-'" in run.err
    _nothing_made(tmp_path / "dev", ca_dir, "dropbox-1")


def test_plain_mqtt_to_a_non_loopback_broker_is_refused(
    tmp_path: Path, ca_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = init_args("dropbox", "dropbox-1", tmp_path / "dev", ca_dir)
    run = provision(capsys, *args, "--plain", "--broker-host", "broker.jkt-01.lan")

    assert run.code == EXIT_REFUSED
    assert "plain MQTT to 'broker.jkt-01.lan' is refused" in run.err
    _nothing_made(tmp_path / "dev", ca_dir, "dropbox-1")

    loopback = provision(capsys, *args, "--plain", "--broker-host", "127.0.0.1")
    assert loopback.code == EXIT_OK, loopback.err


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [("--broker-host", "evil host;rm", "broker.host = 'evil host;rm': "),
     ("--broker-port", "0", "broker.port = 0: Input should be greater than or equal to 1")],
)  # fmt: skip
def test_broker_settings_that_cannot_be_are_one_line_and_nothing_is_made(
    option: str,
    value: str,
    said: str,
    tmp_path: Path,
    ca_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """They were pydantic's several lines, with its documentation link."""
    args = init_args("dropbox", "dropbox-1", tmp_path / "dev", ca_dir)
    run = provision(capsys, *args, option, value)
    assert run.code == EXIT_USAGE
    [line] = run.err.strip().splitlines()
    assert line.startswith("error: the broker settings are invalid: --broker-host/--broker-port: ")
    assert said in line and "pydantic" not in line
    _nothing_made(tmp_path / "dev", ca_dir, "dropbox-1")


def test_a_kiosk_s_trust_list_is_checked_before_anything_is_made(
    tmp_path: Path, ca_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN the back office's signed trust list and its root key
    THEN device init installs it; /dev/zero (which it copied until the disk was full), a list
    signed by another root or not a trust list at all is refused before a key is made."""
    from backoffice.__main__ import main as backoffice

    booking = tmp_path / "booking.toml"
    booking.write_text(f'database_path = "{tmp_path / "b.db"}"\nkeys_dir = "{tmp_path / "k"}"\n')
    assert backoffice(["booking", "keygen", "--config", str(booking)]) == 0
    anchor = json.loads(capsys.readouterr().out)["trust_anchor"]
    signed = tmp_path / "trust-list.json"
    assert (
        backoffice(["booking", "trust-list", "--config", str(booking), "--out", str(signed)]) == 0
    )
    garbage = tmp_path / "notes.json"
    garbage.write_text('{"format": "lapak-trust-list/1"}')

    def init(root: Path, trust_list: str | Path, root_key: str = anchor) -> Run:
        args = init_args("dropbox", "kiosk-7", root, ca_dir)  # a kiosk, with this anchor:
        args[args.index("dropbox")] = "kiosk"
        return provision(capsys, *args, "--trust-anchor", root_key, "--trust-list", trust_list)

    for trust_list, said in [
        ("/dev/zero", "cannot read it (not a file but a device or a socket)"),
        (signed, "not a known anchor"),  # with another root key than the list's
        (garbage, "trust list is malformed: no 'payload' field"),
    ]:
        root = tmp_path / "refused"
        run = init(root, trust_list, trust_anchor() if trust_list == signed else anchor)
        assert run.code == EXIT_USAGE, run.err
        assert f"--trust-list {trust_list}: " in run.err and said in run.err
        _nothing_made(root, ca_dir, "kiosk-7")
    run = init(tmp_path / "dev", signed)
    assert run.code == EXIT_OK, run.err
    config = load(KioskConfig, tmp_path / "dev/etc/lapak/kiosk.toml")
    assert config.booking.trust_list_path.read_bytes() == signed.read_bytes()


def test_a_second_device_with_an_id_the_ca_already_signed_is_refused(
    tmp_path: Path, ca_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert provision(capsys, *init_args("kiosk", "kiosk-1", tmp_path / "a", ca_dir)).code == 0

    run = provision(capsys, *init_args("kiosk", "kiosk-1", tmp_path / "b", ca_dir))

    assert run.code == EXIT_REFUSED
    assert "already has a valid certificate for 'kiosk-1'" in run.err
    assert f"provision ca revoke --dir {ca_dir} --name kiosk-1" in run.err
    assert not list((tmp_path / "b").rglob("*.key"))
    assert len(pki.CADirectory(ca_dir).active("kiosk-1")) == 1

    # Once the old identity is revoked (a replaced device), the id can be given again.
    assert provision(capsys, "ca", "revoke", "--dir", ca_dir, "--name", "kiosk-1").code == 0
    assert provision(capsys, *init_args("kiosk", "kiosk-1", tmp_path / "b", ca_dir)).code == 0


def test_a_provisioned_device_refuses_a_second_init(
    tmp_path: Path, ca_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "dev"
    assert provision(capsys, *init_args("dropbox", "dropbox-1", root, ca_dir)).code == 0
    key_before = device.Layout(root).key_file.read_bytes()

    run = provision(capsys, *init_args("dropbox", "dropbox-2", root, ca_dir))

    assert run.code == EXIT_REFUSED
    assert "already provisioned as 'dropbox-1'" in run.err
    assert device.Layout(root).key_file.read_bytes() == key_before
    assert pki.CADirectory(ca_dir).active("dropbox-2") == []


def test_a_kiosk_without_a_trust_anchor_is_refused_before_any_key_is_made(
    tmp_path: Path, ca_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = init_args("dropbox", "kiosk-1", tmp_path / "dev", ca_dir)
    args[args.index("--role") + 1] = "kiosk"

    run = provision(capsys, *args)

    assert run.code == EXIT_REFUSED
    assert "--trust-anchor" in run.err
    _nothing_made(tmp_path / "dev", ca_dir, "kiosk-1")


def test_ca_init_refuses_to_replace_a_ca(ca_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key_before = (ca_dir / pki.CA_KEY).read_bytes()

    run = provision(capsys, "ca", "init", "--dir", ca_dir)

    assert run.code == EXIT_REFUSED
    assert "already holds a CA" in run.err
    assert (ca_dir / pki.CA_KEY).read_bytes() == key_before


def test_ca_issue_refuses_unsafe_names_and_duplicates_and_rotates_on_request(
    tmp_path: Path, ca_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def csr(name: str) -> Path:
        path = tmp_path / f"{name.replace('/', '_')}.csr"
        pki.write_csr(path, pki.make_csr(pki.new_key(), name))
        return path

    issue = ["ca", "issue", "--dir", ca_dir, "--out", tmp_path / "out.crt", "--csr"]
    unsafe = provision(capsys, *issue, csr("kiosk/1"))
    assert unsafe.code == EXIT_REFUSED and "kiosk/1" in unsafe.err

    assert provision(capsys, *issue, csr("kiosk-1")).code == EXIT_OK
    first = pki.load_cert(tmp_path / "out.crt").serial_number
    duplicate = provision(capsys, *issue, csr("kiosk-1"))
    assert duplicate.code == EXIT_REFUSED and "already has a valid certificate" in duplicate.err

    assert provision(capsys, *issue, csr("kiosk-1"), "--rotate").code == EXIT_OK
    assert _crl_serials(ca_dir) == {first}


def test_revoking_an_unknown_name_fails_and_a_missing_ca_says_how_to_make_one(
    tmp_path: Path, ca_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unknown = provision(capsys, "ca", "revoke", "--dir", ca_dir, "--name", "nobody")
    assert unknown.code == EXIT_FAILED and "provision ca list" in unknown.err

    missing = provision(capsys, "ca", "list", "--dir", tmp_path / "nowhere")
    assert missing.code == EXIT_FAILED
    assert "provision ca init --dir" in missing.err


def test_install_cert_refuses_a_certificate_for_another_key(
    tmp_path: Path, ca_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "dev"
    assert provision(capsys, *init_args("dropbox", "dropbox-1", root, None)).code == 0
    stranger = pki.CADirectory(ca_dir).issue(pki.make_csr(pki.new_key(), "dropbox-1"))
    pki.write_cert(tmp_path / "stranger.crt", stranger)

    run = provision(
        capsys,
        *["device", "install-cert", "--root", root, "--cert", tmp_path / "stranger.crt"],
        *["--ca-cert", ca_dir / pki.CA_CERT],
    )

    assert run.code == EXIT_REFUSED
    assert "does not certify this device's key" in run.err
    assert not device.Layout(root).cert_file.exists()


def test_rotation_through_an_outside_pki_keeps_the_old_key_until_the_new_cert_arrives(
    tmp_path: Path, ca_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "dev"
    assert provision(capsys, *init_args("dropbox", "dropbox-1", root, ca_dir)).code == 0
    layout = device.Layout(root)
    old_key = layout.key_file.read_bytes()

    pending = provision(capsys, "device", "rotate", "--root", root)
    assert pending.code == EXIT_OK and "have" in pending.out
    assert layout.key_file.read_bytes() == old_key  # the device keeps working meanwhile
    assert layout.new_key_file.exists()

    signed = tmp_path / "new.crt"
    issue = ["ca", "issue", "--dir", ca_dir, "--csr", layout.csr_file, "--out", signed, "--rotate"]
    assert provision(capsys, *issue).code == EXIT_OK
    run = provision(
        capsys,
        *["device", "install-cert", "--root", root, "--cert", signed],
        *["--ca-cert", ca_dir / pki.CA_CERT],
    )

    assert run.code == EXIT_OK and "rotated" in run.out
    assert layout.key_file.read_bytes() != old_key and not layout.new_key_file.exists()
    assert pki.same_public_key(pki.load_cert(layout.cert_file), pki.load_key(layout.key_file))
    assert stat.S_IMODE(layout.key_file.stat().st_mode) == 0o600
