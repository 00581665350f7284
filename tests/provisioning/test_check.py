"""`provision check`: green on simulated hardware and branch; every injected failure shows red."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from provisioning import check, device, pki, roles
from tests.provisioning.helpers import Run, failed_titles, init_args, provision
from uplink import ManualClock, SystemClock

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA with a kiosk and a dropbox provisioned under the same directory."""
    from provisioning.__main__ import main

    base = tmp_path_factory.mktemp("fleet")
    assert main(["ca", "init", "--dir", str(base / "ca")]) == 0
    for role in ("kiosk", "dropbox"):
        args = init_args(role, f"{role}-1", base / role, base / "ca")
        if role == "kiosk":
            args += ["--api-url", "https://backoffice.example/api"]
        if role == "dropbox":
            args += ["--set", "printer.enabled=true"]
        assert main([str(a) for a in args]) == 0
    return base


def _check(capsys: pytest.CaptureFixture[str], fleet: Path, role: str, *more: str) -> Run:
    return provision(
        capsys,
        *["check", "--root", fleet / role, "--simulate", "--ca", fleet / "ca"],
        *["--timeout", "2", *more],
    )


@pytest.mark.parametrize("role", ["kiosk", "dropbox"])
def test_a_provisioned_device_passes_every_check_in_simulation(
    role: str, fleet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _check(capsys, fleet, role)

    assert run.code == EXIT_OK, run.out + run.err
    assert "FAIL" not in run.out
    assert "checks passed" in run.out
    for title in ("broker reachable", "back-office ack received", "device certificate and key"):
        assert title in run.out
    if role == "kiosk":
        for title in ("QR test card decoded", "thermometer reading sane", "printer test ticket"):
            assert title in run.out
    else:
        assert "GPIO inputs read at rest" in run.out and "slip printer test" in run.out


@pytest.mark.parametrize(
    ("role", "inject", "expected"),
    [
        ("kiosk", "camera", {"camera: adapter usable", "camera frame", "QR test card decoded"}),
        ("kiosk", "qr", {"QR test card decoded"}),
        ("kiosk", "thermometer", {"thermometer: adapter usable", "thermometer reading sane"}),
        ("kiosk", "printer", {"printer: adapter usable", "printer status", "printer test ticket"}),
        ("kiosk", "clock", {"clock synchronized"}),
        (
            "kiosk",
            "broker",
            {"broker reachable over TLS with this certificate", "back-office ack received"},
        ),
        ("kiosk", "backoffice", {"back-office ack received"}),
        ("kiosk", "api", {"backend API reachable"}),
        ("dropbox", "gpio", {"GPIO inputs read at rest"}),
        ("dropbox", "printer", {"printer: adapter usable", "slip printer test"}),
    ],
)
def test_each_injected_failure_shows_as_a_failure_with_a_fix(
    role: str,
    inject: str,
    expected: set[str],
    fleet: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = _check(capsys, fleet, role, "--fail", inject)

    assert run.code == EXIT_FAILED
    assert failed_titles(run.out) == expected
    assert run.out.count("FAIL") == len(expected)  # one red mark per failed row


def test_check_options_are_validated(fleet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unknown = provision(capsys, "check", "--root", fleet / "kiosk", "--simulate", "--fail", "x")
    assert unknown.code == EXIT_USAGE and "choose from" in unknown.err

    not_simulated = provision(capsys, "check", "--root", fleet / "kiosk", "--fail", "camera")
    assert not_simulated.code == EXIT_USAGE and "add --simulate" in not_simulated.err

    no_ca = provision(capsys, "check", "--root", fleet / "kiosk", "--simulate")
    assert no_ca.code == EXIT_FAILED and "--simulate needs --ca" in no_ca.err


def test_an_unprovisioned_root_is_a_config_error_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = provision(capsys, "check", "--root", tmp_path, "--simulate", "--ca", tmp_path)

    assert run.code == EXIT_USAGE
    assert "device.toml" in run.err


def test_a_revoked_device_fails_the_broker_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ca = tmp_path / "ca"
    assert provision(capsys, "ca", "init", "--dir", ca).code == 0
    assert provision(capsys, *init_args("dropbox", "dropbox-9", tmp_path / "dev", ca)).code == 0
    assert provision(capsys, "ca", "revoke", "--dir", ca, "--name", "dropbox-9").code == 0

    run = provision(
        capsys, "check", "--root", tmp_path / "dev", "--simulate", "--ca", ca, "--timeout", "2"
    )

    assert run.code == EXIT_FAILED
    assert "broker reachable over TLS with this certificate" in failed_titles(run.out)
    assert "refused this device's certificate" in run.out.split("To fix:")[1]


# -- the identity check on its own --------------------------------------------------------------


def _identity_context(root: Path, clock: ManualClock | SystemClock) -> check.CheckContext:
    record = device.load_record(device.Layout(root))
    uplink = roles.uplink_of(roles.load_config(record))
    return check.CheckContext(
        role=record.role,
        device_id=record.device_id,
        uplink=uplink,
        broker=uplink.broker,
        clock=clock,
        hardware=check.Hardware(),
    )


def test_identity_check_fails_on_a_readable_key_a_wrong_cert_and_an_expired_clock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ca = tmp_path / "ca"
    assert provision(capsys, "ca", "init", "--dir", ca).code == 0
    root = tmp_path / "dev"
    assert provision(capsys, *init_args("dropbox", "dropbox-1", root, ca)).code == 0
    layout = device.Layout(root)
    assert check.identity(_identity_context(root, SystemClock())).status == "pass"

    future = ManualClock(dt.datetime.now(dt.UTC) + dt.timedelta(days=3000))
    late = check.identity(_identity_context(root, future))
    assert late.status == "fail" and "provision device rotate" in late.fix

    layout.key_file.chmod(0o644)
    readable = check.identity(_identity_context(root, SystemClock()))
    assert readable.status == "fail" and readable.fix == f"chmod 600 {layout.key_file}"
    layout.key_file.chmod(0o600)

    other = pki.CADirectory(ca).issue(pki.make_csr(pki.new_key(), "dropbox-2"))
    pki.write_cert(layout.cert_file, other)
    wrong = check.identity(_identity_context(root, SystemClock()))
    assert wrong.status == "fail" and "does not match this device's key" in wrong.detail


def test_a_check_that_raises_is_a_failure_and_the_others_still_run() -> None:
    def broken(_ctx: check.CheckContext) -> check.Outcome:
        raise RuntimeError("boom")

    ok = check.FunctionCheck("ok", "fine", lambda _ctx: check.Outcome.ok("fine"))
    ctx = check.CheckContext(
        role="dropbox",
        device_id="dropbox-1",
        uplink=None,  # type: ignore[arg-type]
        broker=None,  # type: ignore[arg-type]
        clock=SystemClock(),
        hardware=check.Hardware(),
    )

    results = check.run([check.FunctionCheck("bad", "broken", broken), ok], ctx)

    assert [r.outcome.status for r in results] == ["fail", "pass"]
    assert "RuntimeError: boom" in results[0].outcome.detail
