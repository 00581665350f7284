"""`provision check` warns 30 days before a certificate or the CRL runs out and fails after.

Certificates and CRLs come from the project's own CA (`provisioning.pki`) with short lifetimes;
the checks read the time from an injected clock placed relative to each file's own dates.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioning import check, device, expiry, pki, roles
from tests.provisioning.helpers import init_args, provision
from uplink import ManualClock
from uplink.config import BrokerConfig

DAY = dt.timedelta(days=1)
NOW = dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC)


# -- the device's and the CA's certificates -----------------------------------------------------


@pytest.fixture
def short_lived(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A dropbox provisioned from a CA whose certificate lives 60 days (the device's 825)."""
    ca = tmp_path / "ca"
    assert provision(capsys, "ca", "init", "--dir", ca, "--days", "60").code == 0
    root = tmp_path / "dev"
    assert provision(capsys, *init_args("dropbox", "jakarta-salemba-dropbox-1", root, ca)).code == 0
    return root


def _context(root: Path, clock: ManualClock, **changes: object) -> check.CheckContext:
    record = device.load_record(device.Layout(root))
    uplink = roles.uplink_of(roles.load_config(record))
    fields: dict[str, object] = {
        "role": record.role,
        "device_id": record.device_id,
        "uplink": uplink,
        "broker": uplink.broker,
        "clock": clock,
        "hardware": check.Hardware(),
    }
    fields.update(changes)
    return check.CheckContext(**fields)  # type: ignore[arg-type]


def _ends(path: Path) -> dt.datetime:
    return pki.load_cert(path).not_valid_after_utc


def test_the_ca_and_device_certificates_warn_then_fail(short_lived: Path) -> None:
    layout = device.Layout(short_lived)
    ca_ends = _ends(layout.pki_dir / "ca.crt")
    device_ends = _ends(layout.cert_file)

    fine = check.certificates_expiry(_context(short_lived, ManualClock(ca_ends - 40 * DAY)))
    assert fine.status == "pass" and "CA certificate expires" in fine.detail

    soon = check.certificates_expiry(_context(short_lived, ManualClock(ca_ends - 12 * DAY)))
    assert soon.status == "warn"
    assert (
        f"CA certificate expires {ca_ends:%Y-%m-%d}" in soon.detail
        and "(in 12 days)" in soon.detail
    )
    assert "provision ca init" in soon.fix and "provision device rotate" in soon.fix

    gone = check.certificates_expiry(_context(short_lived, ManualClock(ca_ends + DAY)))
    assert gone.status == "fail" and "CA certificate expired" in gone.detail

    device_soon = check.certificates_expiry(
        _context(short_lived, ManualClock(device_ends - 3 * DAY))
    )
    assert device_soon.status == "fail"  # the CA ended long before: the worst is said first
    assert f"device certificate expires {device_ends:%Y-%m-%d}" in device_soon.detail
    assert "provision device rotate --ca /mnt/lapak-ca" in device_soon.fix


def test_the_device_certificate_alone_warns_with_its_renewal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ca = tmp_path / "ca"
    assert provision(capsys, "ca", "init", "--dir", ca).code == 0  # 10 years
    root = tmp_path / "dev"
    assert provision(capsys, *init_args("dropbox", "jakarta-salemba-dropbox-2", root, ca)).code == 0
    device_ends = _ends(device.Layout(root).cert_file)
    soon = check.certificates_expiry(_context(root, ManualClock(device_ends - 29 * DAY)))
    assert soon.status == "warn" and soon.detail.startswith("device certificate expires")
    assert soon.fix == expiry.RENEW_DEVICE


# -- the broker's certificate, read over TLS ----------------------------------------------------


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[int, Path, pki.CADirectory]]:
    """A TLS server presenting a 20-day broker certificate from the fleet CA (handshakes only)."""
    ca = pki.CADirectory.init(tmp_path / "broker-ca", "Lapak Asik test CA")
    key = pki.new_key()
    cert = ca.issue(pki.make_csr(key, "broker"), server_names=["localhost"], days=20)
    pki.write_key(tmp_path / "server.key", key)
    pki.write_cert(tmp_path / "server.crt", cert)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.crt", tmp_path / "server.key")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)  # so the loop sees `stop` (a closed socket does not wake accept)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(5)
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (OSError, ssl.SSLError):
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], tmp_path / "server.crt", ca
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_the_broker_certificate_warns_then_fails(
    tls_broker: tuple[int, Path, pki.CADirectory], short_lived: Path
) -> None:
    port, server_cert, _ca = tls_broker
    ends = _ends(server_cert)
    context = _context(short_lived, ManualClock(ends - 19 * DAY))
    broker = context.broker.model_copy(update={"host": "127.0.0.1", "port": port})

    def at(moment: dt.datetime) -> check.Outcome:
        return check.broker_certificate(_context(short_lived, ManualClock(moment), broker=broker))

    soon = at(ends - 19 * DAY)
    assert soon.status == "warn"
    assert soon.detail.startswith(f"broker certificate (broker) expires {ends:%Y-%m-%d}")
    assert "provision render --role broker" in soon.fix and "restart mosquitto" in soon.fix

    gone = at(ends + DAY)
    assert gone.status == "fail" and "expired" in gone.detail

    fine = at(ends - 45 * DAY)
    assert fine.status == "pass"


def test_an_unreachable_broker_leaves_its_certificate_to_the_broker_check(
    short_lived: Path,
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    context = _context(short_lived, ManualClock(NOW))
    broker: BrokerConfig = context.broker.model_copy(update={"host": "127.0.0.1", "port": port})
    skipped = check.broker_certificate(_context(short_lived, ManualClock(NOW), broker=broker))
    assert skipped.status == "skip" and "see the broker check" in skipped.detail


# -- the CRL --------------------------------------------------------------------------------------


def test_the_crl_warns_then_fails_with_the_command_that_re_signs_it(
    tmp_path: Path, short_lived: Path
) -> None:
    ca = pki.CADirectory(tmp_path / "ca")
    crl_file = ca.write_crl(days=20)
    next_update = pki.load_crl(crl_file).next_update_utc
    assert next_update is not None

    soon = check.crl_next_update(
        _context(short_lived, ManualClock(next_update - 19 * DAY), crl_file=crl_file)
    )
    assert soon.status == "warn"
    assert f"next update is due {next_update:%Y-%m-%d}" in soon.detail
    assert "provision ca crl --dir" in soon.fix and "restart mosquitto" in soon.fix

    late = check.crl_next_update(
        _context(short_lived, ManualClock(next_update + 2 * DAY), crl_file=crl_file)
    )
    assert late.status == "fail" and "next update was due" in late.detail

    fine = check.crl_next_update(
        _context(short_lived, ManualClock(next_update - 31 * DAY), crl_file=crl_file)
    )
    assert fine.status == "pass"

    none_here = check.crl_next_update(_context(short_lived, ManualClock(NOW)))
    assert none_here.status == "skip" and "--crl" in none_here.detail

    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a CRL\n")
    bad = check.crl_next_update(_context(short_lived, ManualClock(NOW), crl_file=garbage))
    assert bad.status == "fail" and "not a readable PEM CRL" in bad.detail


def test_provision_check_prints_a_warning_and_still_passes(
    tmp_path: Path, short_lived: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a CRL re-signed for 10 days only WHEN `provision check --crl` runs THEN the table
    says WARN, the warning lists the date and the command, and the exit code is 0."""
    crl_file = pki.CADirectory(tmp_path / "ca").write_crl(days=10)
    run = provision(
        capsys,
        *["check", "--root", short_lived, "--simulate", "--ca", tmp_path / "ca"],
        *["--timeout", "2", "--crl", crl_file],
    )
    assert run.code == 0, run.out + run.err
    assert "WARN" in run.out and "1 warning(s)" in run.out
    warning = run.out.split("warning(s)", 1)[1]
    assert "CRL not past its next update" in warning and "provision ca crl --dir" in warning
    assert "checks passed" in run.out and "1 with a warning" in run.out


def test_ca_list_says_when_the_crl_and_the_ca_run_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a CRL re-signed for 10 days WHEN the CA operator lists the CA THEN the CRL's next
    update is a warning with the command; the CA certificate's end is said plainly."""
    ca = tmp_path / "ca"
    assert provision(capsys, "ca", "init", "--dir", ca).code == 0
    renewed = provision(capsys, "ca", "crl", "--dir", ca, "--days", "10")
    # rich wraps long lines, where depends on the path's length (a parallel worker's is longer)
    assert renewed.code == 0 and "restart mosquitto" in " ".join(renewed.out.split())
    listed = provision(capsys, "ca", "list", "--dir", ca)
    assert listed.code == 0
    out = " ".join(listed.out.split())  # rich wraps long lines
    assert "CA certificate expires" in out and "warning: CA" not in out
    assert "warning: CRL next update is due" in out and f"provision ca crl --dir {ca}" in out


def test_rendering_a_broker_warns_about_a_crl_near_its_next_update(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The broker reads its CRL only when it starts: the technician rendering it is told."""
    ca = tmp_path / "ca"
    assert provision(capsys, "ca", "init", "--dir", ca).code == 0
    argv = ["render", "--role", "broker", "--root", tmp_path / "root", "--ca", ca]
    quiet = provision(capsys, *argv, "--server-name", "broker.jakarta-salemba.lan")
    assert "CRL" not in quiet.err
    assert provision(capsys, "ca", "crl", "--dir", ca, "--days", "5").code == 0
    warned = provision(capsys, *argv, "--server-name", "broker.jakarta-salemba.lan")
    err = " ".join(warned.err.split())
    assert "warning: the CRL copied to the broker is due for its next update" in err
    assert f"provision ca crl --dir {ca}" in err
