"""Hints that work: every "next:" line runs as printed, dry runs pipe as a plain diff, a
forgotten boot partition is named, and --set errors read like `config check`'s."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from provisioning import pki
from tests.provisioning.helpers import Run, init_args, provision

NEXT = re.compile(r"^next: `([^`]+)`", re.MULTILINE)


def run_next(capsys: pytest.CaptureFixture[str], run: Run) -> Run:
    """Run the `provision ...` command of a "next:" line exactly as printed."""
    [line] = NEXT.findall(run.out)
    argv = shlex.split(line)
    assert argv[0] == "provision", line
    return provision(capsys, *argv[1:])


@pytest.mark.parametrize("role", ["dropbox", "kiosk"])
def test_the_next_line_after_init_runs_green(
    role: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ca = tmp_path / "ca"
    assert provision(capsys, "ca", "init", "--dir", ca).code == 0
    extra = ("--set", "printer.enabled=true") if role == "dropbox" else ()
    init = provision(capsys, *init_args(role, f"{role}-9", tmp_path / role, ca, *extra))
    assert init.code == 0, init.err
    checked = run_next(capsys, init)
    assert checked.code == 0, checked.out + checked.err
    assert "checks passed" in checked.out


def test_the_next_line_after_a_csr_runs_once_the_certificate_is_where_it_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ca = tmp_path / "ca"
    assert provision(capsys, "ca", "init", "--dir", ca).code == 0
    init = provision(capsys, *init_args("dropbox", "dropbox-9", tmp_path / "dev", None))
    assert init.code == 0, init.err
    pki_dir = tmp_path / "dev" / "etc" / "lapak" / "pki"
    signed = pki.CADirectory(ca).issue(pki.load_csr(pki_dir / "device.csr"))
    pki.write_cert(pki_dir / "device.signed.crt", signed)
    shutil.copyfile(ca / pki.CA_CERT, pki_dir / "ca.signed.crt")
    installed = run_next(capsys, init)
    assert installed.code == 0, installed.err
    assert (pki_dir / "device.crt").exists()


def test_the_revoke_hint_of_a_duplicate_runs_and_frees_the_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ca = tmp_path / "ca"
    assert provision(capsys, "ca", "init", "--dir", ca).code == 0
    assert provision(capsys, *init_args("dropbox", "dropbox-9", tmp_path / "a", ca)).code == 0
    again = provision(capsys, *init_args("dropbox", "dropbox-9", tmp_path / "b", ca))
    assert again.code == 3
    [hint] = re.findall(r"`(provision ca revoke [^`]+)`", again.err)
    assert provision(capsys, *shlex.split(hint)[1:]).code == 0
    assert provision(capsys, *init_args("dropbox", "dropbox-9", tmp_path / "b", ca)).code == 0


def test_a_piped_dry_run_is_a_plain_unified_diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "a-rather-long-folder-name-for-the-sd-card-root" / "mounted-here"
    (root / "boot" / "firmware").mkdir(parents=True)
    (root / "boot" / "firmware" / "config.txt").write_text("[all]\n")
    run = provision(capsys, "render", "--role", "kiosk", "--root", root, "--dry-run")
    assert run.code == 0
    assert "…" not in run.out and "┃" not in run.out
    assert f"# kiosk into {root}:" in run.out  # long line kept whole
    assert "--- a/boot/firmware/config.txt\n+++ b/boot/firmware/config.txt\n" in run.out
    assert "--- /dev/null\n+++ b/etc/systemd/system/lapak-kiosk.service\n" in run.out
    assert "warning" not in run.err  # the boot partition is there


def test_render_names_a_boot_partition_that_is_not_mounted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = provision(capsys, "render", "--role", "dropbox", "--root", tmp_path, "--dry-run")
    assert run.code == 0
    assert f"warning: {tmp_path}/boot/firmware/config.txt does not exist" in run.err
    assert "boot partition mounted" in run.err


def test_set_errors_read_like_config_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = provision(
        capsys, *init_args("dropbox", "dropbox-9", tmp_path / "dev", None, "--set", "pins.bem=4")
    )
    assert run.code == 2
    assert "pins.bem = 4: unknown key (did you mean 'beam'?)" in run.err
    assert "Extra inputs" not in run.err


def test_a_device_made_in_a_relative_folder_gets_absolute_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN `device init --root demo/box` run from some folder
    WHEN the config is written
    THEN every path in it is absolute, so the device runs from any working directory."""
    import tomllib

    monkeypatch.chdir(tmp_path)
    assert provision(capsys, "ca", "init", "--dir", "demo/ca").code == 0
    made = provision(capsys, *init_args("dropbox", "dropbox-9", Path("demo/box"), Path("demo/ca")))
    assert made.code == 0, made.err
    config = tomllib.loads((tmp_path / "demo/box/etc/lapak/dropbox.toml").read_text())
    paths = [
        config["local_db_path"],
        config["uplink"]["outbox_path"],
        config["uplink"]["broker"]["key_file"],
        config["uplink"]["broker"]["ca_file"],
    ]
    assert all(Path(p).is_absolute() and p.startswith(str(tmp_path)) for p in paths), paths
