"""Rendering each role into a temporary root: real validators, idempotence, dry-run diffs."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from provisioning import pki, render
from provisioning.__main__ import main

SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze"
# Render with this venv, so every ExecStart names a binary that really exists here.
VENV = PurePosixPath(sys.prefix)


def _render(role: render.Role, root: Path, **options: object) -> list[render.Change]:
    target = render.Target(root, local=True)
    settings = render.RenderOptions(venv=VENV, **options)  # type: ignore[arg-type]
    return render.apply(render.plan(role, target, settings), target)


def _units(root: Path) -> list[Path]:
    unit_dir = root / "etc/systemd/system"
    return sorted(
        p for p in unit_dir.glob("*") if p.is_file() and not p.is_symlink() and p.suffix != ".d"
    )


@pytest.mark.parametrize("role", ["kiosk", "dropbox", "backoffice"])
def test_rendered_units_pass_systemd_analyze_verify_without_warnings(
    role: render.Role, tmp_path: Path
) -> None:
    assert Path(SYSTEMD_ANALYZE).exists(), "systemd-analyze is needed: apt-get install systemd"
    _render(role, tmp_path, read_only_root=True, rotation_deg=90)
    units = _units(tmp_path)
    assert f"lapak-{role}.service" in [u.name for u in units]
    if role == "kiosk" and shutil.which("cage") is None:
        pytest.skip("cage is not installed (apt-get install cage): the kiosk unit runs it")

    result = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", *map(str, units)], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == "", "systemd-analyze printed warnings"


def test_device_units_are_notify_services_with_watchdog_restart_and_a_state_directory(
    tmp_path: Path,
) -> None:
    for role in ("kiosk", "dropbox", "backoffice"):
        _render(role, tmp_path / role)
        text = (tmp_path / role / f"etc/systemd/system/lapak-{role}.service").read_text()
        for line in (
            "Type=notify",
            "Restart=always",
            "WatchdogSec=30",
            f"StateDirectory=lapak/{role}",
            "NoNewPrivileges=yes",
            f"{VENV}/bin/",
        ):
            assert line in text, f"{role}: {line!r} missing"


def test_the_back_office_gets_the_booking_api_as_a_notify_service_where_booking_toml_is(
    tmp_path: Path,
) -> None:
    """The booking API beside the receiver: READY once listening, the watchdog from its serve
    loop, its client CRL's standing in STATUS=; skipped by systemd without booking.toml."""
    _render("backoffice", tmp_path)
    system = tmp_path / "etc/systemd/system"
    text = (system / "lapak-booking-api.service").read_text()
    booking = tmp_path / "etc/lapak/booking.toml"  # a local render refers to host paths
    for line in (
        "Type=notify",
        "NotifyAccess=main",
        "WatchdogSec=30",
        "Restart=always",
        f"ConditionPathExists={booking}",
        f"ExecStart={VENV}/bin/backoffice api --config {booking}",
        "StateDirectory=lapak/booking lapak/backoffice",
        "NoNewPrivileges=yes",
    ):
        assert line in text.splitlines(), f"{line!r} missing"
    wants = system / "multi-user.target.wants/lapak-booking-api.service"
    assert os.readlink(wants) == "/etc/systemd/system/lapak-booking-api.service"
    assert not (tmp_path / "kiosk" / "etc/systemd/system/lapak-booking-api.service").exists()


def test_kiosk_session_has_no_escape(tmp_path: Path) -> None:
    _render("kiosk", tmp_path, rotation_deg=180)
    unit = (tmp_path / "etc/systemd/system/lapak-kiosk.service").read_text()
    system = tmp_path / "etc/systemd/system"

    assert "ExecStart=/usr/bin/cage -d -r -r -- " in unit  # no -s: no VT switching
    assert "PAMName=login" in unit and "TTYPath=/dev/tty1" in unit
    assert os.readlink(system / "getty@tty1.service") == "/dev/null"
    assert os.readlink(system / "ctrl-alt-del.target") == "/dev/null"
    assert os.readlink(system / "default.target").endswith("graphical.target")
    assert "NAutoVTs=0" in (tmp_path / "etc/systemd/logind.conf.d/lapak-kiosk.conf").read_text()


def test_boot_fragment_enables_i2c_camera_and_the_hardware_watchdog(tmp_path: Path) -> None:
    config_txt = tmp_path / "boot/firmware/config.txt"
    config_txt.parent.mkdir(parents=True)
    config_txt.write_text("# from the OS image\n[cm4]\narm_64bit=1")

    _render("kiosk", tmp_path)

    fragment = (tmp_path / "boot/firmware/lapak.txt").read_text()
    for line in ("dtparam=watchdog=on", "dtparam=i2c_arm=on", "camera_auto_detect=1"):
        assert line in fragment.splitlines()
    assert config_txt.read_text() == (
        "# from the OS image\n[cm4]\narm_64bit=1\n[all]\ninclude lapak.txt\n"
    ), "the include goes at the end, under [all], and the image's lines stay"
    watchdog = tmp_path / "etc/systemd/system.conf.d/lapak-watchdog.conf"
    assert "RuntimeWatchdogSec=15" in watchdog.read_text()


def test_read_only_root_adds_the_data_partition_mount_and_a_volatile_journal(
    tmp_path: Path,
) -> None:
    _render("dropbox", tmp_path, read_only_root=True, data_label="data")
    mount = (tmp_path / "etc/systemd/system/var-lib-lapak.mount").read_text()
    journald = (tmp_path / "etc/systemd/journald.conf.d/lapak.conf").read_text()

    assert "What=/dev/disk/by-label/data" in mount and "Where=/var/lib/lapak" in mount
    assert (tmp_path / "etc/systemd/system/local-fs.target.wants/var-lib-lapak.mount").is_symlink()
    assert "Storage=volatile" in journald and "SystemMaxUse=64M" in journald


@pytest.mark.parametrize("role", ["kiosk", "dropbox", "backoffice"])
def test_render_is_idempotent(role: render.Role, tmp_path: Path) -> None:
    first = _render(role, tmp_path)
    assert first, "the first render must create files"
    assert _render(role, tmp_path) == []


def test_broker_render_installs_its_identity_once_and_is_then_idempotent(tmp_path: Path) -> None:
    ca = pki.CADirectory.init(tmp_path / "ca", "Test CA")
    target = render.Target(tmp_path / "root", local=True)

    assert render.install_broker_identity(target, ca, ["broker.jkt-01.lan"]) is True
    first = _render("broker", tmp_path / "root")
    assert render.install_broker_identity(target, ca, ["broker.jkt-01.lan"]) is False

    assert first and not [c for c in first if c.missing]
    assert _render("broker", tmp_path / "root") == []
    key = tmp_path / "root/etc/mosquitto/lapak/server.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o640
    assert [r.name for r in ca.records()] == ["broker.jkt-01.lan"]


def test_broker_render_without_its_certificate_says_what_is_missing_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["render", "--role", "broker", "--root", str(tmp_path)])

    err = capsys.readouterr().err
    assert code == 1
    assert "missing: /etc/mosquitto/lapak/server.key" in err
    assert "--server-name" in err
    assert (tmp_path / "etc/mosquitto/mosquitto.conf").is_file()


def test_render_repairs_modes_and_edits(tmp_path: Path) -> None:
    _render("dropbox", tmp_path)
    rules = tmp_path / "etc/udev/rules.d/60-lapak-escpos.rules"
    rules.chmod(0o666)
    rules.write_text(rules.read_text() + "# local edit\n")

    changes = _render("dropbox", tmp_path)

    assert {str(c.entry.path) for c in changes} == {"/etc/udev/rules.d/60-lapak-escpos.rules"}
    assert stat.S_IMODE(rules.stat().st_mode) == 0o644
    assert "# local edit" not in rules.read_text()


def test_dry_run_shows_a_diff_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "sd"
    assert main(["render", "--role", "dropbox", "--root", str(root), "--dry-run"]) == 0
    out = capsys.readouterr().out

    assert not root.exists()
    assert "+++ b/etc/systemd/system/lapak-dropbox.service" in out
    assert "+Type=notify" in out

    assert main(["render", "--role", "dropbox", "--root", str(root)]) == 0
    capsys.readouterr()
    assert main(["render", "--role", "dropbox", "--root", str(root), "--dry-run"]) == 0
    assert "already up to date" in capsys.readouterr().out


def test_escpos_udev_rules_are_well_formed(tmp_path: Path) -> None:
    _render("kiosk", tmp_path)
    rules = (tmp_path / "etc/udev/rules.d/60-lapak-escpos.rules").read_text().splitlines()
    for line in (r for r in rules if r and not r.startswith("#")):
        keys = [part.strip().split("=")[0].rstrip("!+:") for part in line.split(",")]
        assert keys[0] == "SUBSYSTEM", line
        assert any(k in ("GROUP", "MODE") for k in keys), line
        assert line.count('"') % 2 == 0, line


def test_fleet_acl_prints_the_access_rules_and_listener_and_lets_each_named_bridge_in(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ca = pki.CADirectory.init(tmp_path / "ca", "Test fleet CA")
    ca.issue(pki.make_csr(pki.new_key(), "kiosk-1"))
    revoked = pki.make_csr(pki.new_key(), "kiosk-2")
    ca.issue(revoked)
    ca.revoke(name="kiosk-2", reason="key_compromise")
    argv = [
        "fleet",
        "acl",
        "--bridge-branch",
        "jakarta-salemba",
        "--bridge-branch",
        "bali-denpasar",
    ]
    assert main([*argv, "--ca", str(tmp_path / "ca")]) == 0
    out = capsys.readouterr().out

    dynsec = json.loads(out.split(" ----\n", 1)[1].split("\n# ----", 1)[0])
    clients = {c["username"]: [r["rolename"] for r in c["roles"]] for c in dynsec["clients"]}
    assert clients == {
        "backoffice": ["backoffice"],
        "bridge-bali-denpasar": ["bridge-bali-denpasar"],
        "bridge-jakarta-salemba": ["bridge-jakarta-salemba"],
        "kiosk-1": ["device", "device-kiosk-1"],  # kiosk-2 is revoked: not admitted
    }
    acls = {r["rolename"]: {(a["acltype"], a["topic"]) for a in r["acls"]} for r in dynsec["roles"]}
    assert ("publishClientSend", "lapak/v1/dev/kiosk-1/evt") in acls["device-kiosk-1"]
    assert ("subscribePattern", "lapak/v1/dev/kiosk-1/ack") in acls["device-kiosk-1"]
    occupancy = ("subscribePattern", "lapak/v1/branch/bali-denpasar/occupancy")
    assert occupancy in acls["bridge-bali-denpasar"]
    assert ("subscribePattern", "$share/+/lapak/v1/dev/+/evt") in acls["backoffice"]
    assert all(a["allow"] for r in dynsec["roles"] for a in r["acls"])
    assert not any(dynsec["defaultACLAccess"][k] for k in ("publishClientSend", "subscribe"))
    assert "require_certificate true" in out and "use_identity_as_username true" in out
    assert "use_username_as_clientid true" in out
    assert "mosquitto_dynamic_security.so" in out
    assert "max_packet_size 262144" in out and "max_queued_bytes" in out
    assert "crlfile /etc/mosquitto/lapak/crl.pem" in out
    assert "allow_anonymous false" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["fleet", "acl", "--bridge-branch", "jkt/01"],
        ["render", "--role", "broker", "--root", "ROOT", "--branch", "jkt+", "--central-host", "c"],
        ["render", "--role", "kiosk", "--root", "ROOT", "--ca", "CA"],
        ["render", "--role", "broker", "--root", "ROOT", "--ca", "CA"],
    ],
)
def test_render_and_fleet_refusals_exit_3_and_write_nothing(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(tmp_path / "root") if a == "ROOT" else a for a in argv]
    argv = [str(tmp_path / "ca") if a == "CA" else a for a in argv]

    assert main(argv) == 3
    assert "refused:" in capsys.readouterr().err
    assert not (tmp_path / "root").exists()
