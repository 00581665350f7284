"""Start-up checks that explain: every tool opens its files, keys and certificates at start and
says what is wrong in one line (exit 2 for configuration, 1 for runtime); `config check` runs
the same file checks and refuses numbers that are not finite."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from backoffice.__main__ import main as backoffice
from backoffice.config import BackofficeConfig
from branchsim.broker import LocalBroker
from configkit import dump_toml
from dropbox_agent.__main__ import main as dropbox_agent
from kiosk.__main__ import main as kiosk
from kiosk.booking.cache import CacheError
from kiosk.booking.http import ApiUnavailable
from kiosk.booking.ledger import CheckinLedger
from kiosk.errors import CameraError, LedgerError, PrinterError, ThermometerError, TicketBookError
from kiosk.sim.bookings import SimIssuer
from kiosk.sim.demo import demo_config
from kiosk.store import TicketBook
from kiosk.ui.voices import VoiceError
from tests.dropbox_agent.conftest import make_config as dropbox_config
from uplink import BrokerConfig, StorageError


@pytest.fixture(scope="module")
def issuer() -> SimIssuer:
    return SimIssuer()


def kiosk_file(tmp_path: Path, issuer: SimIssuer, **replace: str) -> Path:
    text = dump_toml(demo_config(tmp_path / "kiosk", issuer))
    (tmp_path / "frames").mkdir(exist_ok=True)
    text = text.replace('source = "picamera2"', f'source = "folder"\nfolder = "{tmp_path}/frames"')
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("outbox_max_mb = 256.0", "inf"),
        ("outbox_max_mb = 256.0", "nan"),
        ("outbox_max_mb = 256.0", "1e308"),
        ("outbox_max_mb = 256.0", "-inf"),
        ("reconnect_min_s = 0.5", "inf"),
    ],
)
def test_config_check_refuses_numbers_that_are_not_finite(
    tmp_path: Path, issuer: SimIssuer, capsys: pytest.CaptureFixture[str], key: str, value: str
) -> None:
    name = key.split(" =")[0]
    path = kiosk_file(tmp_path, issuer, **{key: f"{name} = {value}"})
    assert kiosk(["config", "check", str(path)]) == 2
    line = one_line(capsys.readouterr().err)
    assert f"uplink.{name}" in line and "finite" in line
    assert kiosk(["run", "--config", str(path)]) == 2  # the same refusal at start


def test_a_large_but_sane_number_still_passes(
    tmp_path: Path, issuer: SimIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    path = kiosk_file(tmp_path, issuer, **{"outbox_max_mb = 256.0": "outbox_max_mb = 4096.0"})
    assert kiosk(["config", "check", str(path)]) == 0


@pytest.mark.parametrize("tool", ["kiosk", "dropbox-agent", "backoffice"])
def test_a_byte_that_is_not_utf8_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tool: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(b'# kantor cabang\n# caf\xe9\nbox_id = "x"\n')
    main = {"kiosk": kiosk, "dropbox-agent": dropbox_agent, "backoffice": backoffice}[tool]
    assert main(["config", "check", str(path)]) == 2
    line = one_line(capsys.readouterr().err)
    assert "not UTF-8" in line and "line 2" in line and "0xe9" in line
    run = (
        ["run", "--config", str(path)]
        if tool != "backoffice"
        else ["receive", "--config", str(path)]
    )
    assert main(run) == 2
    assert "not UTF-8" in one_line(capsys.readouterr().err)


def write_backoffice(
    tmp_path: Path,
    broker: LocalBroker,
    key_file: Path | None = None,
    client: BrokerConfig | None = None,
) -> Path:
    client = client or broker.client_config("backoffice")
    if key_file is not None:
        client = client.model_copy(update={"key_file": key_file})
    config = BackofficeConfig(broker=client, database_path=tmp_path / "events.db")
    path = tmp_path / "backoffice.toml"
    path.write_text(dump_toml(config), encoding="utf-8")
    return path


def test_a_private_key_others_can_read_is_a_warning_in_config_check(
    tmp_path: Path, broker: LocalBroker, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "readable.key"
    client = broker.client_config("backoffice")
    assert client.key_file is not None
    shutil.copy(client.key_file, key)
    key.chmod(0o644)
    path = write_backoffice(tmp_path, broker, key, client)

    assert backoffice(["config", "check", str(path)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: ") and "mode 0644" in err and f"chmod 600 {key}" in err

    key.chmod(0o600)
    assert backoffice(["config", "check", str(path)]) == 0
    assert capsys.readouterr().err == ""


def test_an_unusable_key_fails_config_check_and_a_missing_one_fails_the_start(
    tmp_path: Path, broker: LocalBroker, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "device.key"
    key.write_text("-----BEGIN PRIVATE KEY-----\nnonsense\n-----END PRIVATE KEY-----\n")
    key.chmod(0o600)
    path = write_backoffice(tmp_path, broker, key)
    assert backoffice(["config", "check", str(path)]) == 2
    assert "do not load together" in one_line(capsys.readouterr().err)

    key.unlink()  # not installed yet: a warning when checking, a refusal when starting
    assert backoffice(["config", "check", str(path)]) == 0
    assert "no such file" in capsys.readouterr().err
    assert backoffice(["receive", "--config", str(path)]) == 2
    line = one_line(capsys.readouterr().err)
    # The back office's own identity: `provision key` and `provision ca issue`, not a device's.
    assert "broker.key_file" in line and f"provision key --cn backoffice --key {key}" in line
    assert "provision device" not in line


@pytest.mark.parametrize("what", ["a_folder", "dev_null"])
@pytest.mark.parametrize("which", ["ledger_path", "book_path", "outbox_path"])
def test_kiosk_run_on_a_file_it_cannot_open_says_so_in_one_line(
    tmp_path: Path, issuer: SimIssuer, capsys: pytest.CaptureFixture[str], which: str, what: str
) -> None:
    target = tmp_path / "taken"
    if what == "a_folder":
        target.mkdir()
    else:
        target = Path("/dev/null")
    name = {"ledger_path": "ledger.db", "book_path": "tickets.db", "outbox_path": "outbox.db"}
    old = f'{which} = "{tmp_path}/kiosk/{name[which]}"'
    path = kiosk_file(tmp_path, issuer, **{old: f'{which} = "{target}"'})

    assert kiosk(["run", "--config", str(path)]) == 1
    line = one_line(capsys.readouterr().err)
    assert str(target) in line and "check the path" in line


@pytest.mark.parametrize("which", ["cache_dir", "trust_list_path"])
def test_kiosk_run_on_a_booking_cache_it_cannot_open_says_so_in_one_line(
    tmp_path: Path, issuer: SimIssuer, capsys: pytest.CaptureFixture[str], which: str
) -> None:
    """GIVEN the booking cache folder is a file, or the trust list a folder
    WHEN kiosk run starts THEN one line names the path and the key to fix, exit 1."""
    path = kiosk_file(tmp_path, issuer)
    cache, trust = tmp_path / "kiosk" / "cache", tmp_path / "kiosk" / "trust-list.json"
    if which == "cache_dir":
        cache.write_text("not a folder")
    else:
        trust.unlink()
        trust.mkdir()

    assert kiosk(["run", "--config", str(path)]) == 1
    line = one_line(capsys.readouterr().err)
    assert line.startswith("kiosk run: booking cache: ")
    assert str(cache if which == "cache_dir" else trust) in line and f"booking.{which}" in line


SETUP_ERRORS = [  # what kiosk run may meet while it builds the kiosk, each by its own class
    CameraError("usb camera /dev/video0: not found; plug it in or set [camera] device"),
    ThermometerError("MLX90614 on /dev/i2c-1: no answer at 0x5a; check the wiring", "missing"),
    PrinterError("usb printer 04b8:0e15: not found; plug it in or set [printer] target"),
    StorageError("/var/lib/lapak/kiosk/outbox.db: cannot open (it is a folder, not a file)"),
    LedgerError("/var/lib/lapak/kiosk/ledger.db: disk I/O error"),
    TicketBookError("/var/lib/lapak/kiosk/tickets.db: disk I/O error"),
    CacheError("not a day list: 'bookings' is missing"),
    ApiUnavailable("/api/v1/trust-list: HTTP 503"),
    VoiceError("espeak-ng is not installed: apt-get install espeak-ng (setup.sh does)"),
]


@pytest.mark.parametrize("error", SETUP_ERRORS, ids=lambda error: type(error).__name__)
def test_kiosk_run_says_each_setup_error_in_one_line_and_exits_1(
    tmp_path: Path,
    issuer: SimIssuer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
) -> None:
    """GIVEN building the kiosk fails with one of its set-up errors
    WHEN kiosk run starts THEN the user reads "kiosk run: <what and the fix>", exit 1 (as
    dropbox-agent run says its own), never a traceback or "unexpected error"."""
    from kiosk import app

    def build(*_args: object, **_kwargs: object) -> None:
        raise error

    monkeypatch.setattr(app, "build", build)
    assert kiosk(["run", "--config", str(kiosk_file(tmp_path, issuer))]) == 1
    assert one_line(capsys.readouterr().err) == f"kiosk run: {error}"


@pytest.mark.parametrize("which", ["cert_file", "key_file", "ca_file"])
def test_kiosk_run_with_tls_files_gone_since_the_config_was_read_says_so_in_one_line(
    tmp_path: Path,
    issuer: SimIssuer,
    broker: LocalBroker,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    which: str,
) -> None:
    """GIVEN a kiosk config whose TLS files were there when it was read
    WHEN one is removed before the uplink is built THEN kiosk run says so in one line with the
    keys to check and the fix, exit 1 (as dropbox-agent run), not "unexpected error"."""
    from kiosk import app
    from kiosk.sim.demo import DEMO_KIOSK

    files = broker.client_config(DEMO_KIOSK)
    tls = {}
    for key in ("ca_file", "cert_file", "key_file"):
        original = getattr(files, key)
        assert original is not None
        tls[key] = tmp_path / f"{key}.pem"
        shutil.copy(original, tls[key])
        tls[key].chmod(0o600)
    table = files.model_copy(update=tls).model_dump(mode="json")
    config = demo_config(tmp_path / "kiosk", issuer, broker=table)
    (tmp_path / "frames").mkdir()
    text = dump_toml(config).replace(
        'source = "picamera2"', f'source = "folder"\nfolder = "{tmp_path}/frames"'
    )
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    run = app.run

    def files_gone_then_run(*args: Any, **kwargs: Any) -> None:
        tls[which].unlink()
        run(*args, **kwargs)

    monkeypatch.setattr(app, "run", files_gone_then_run)
    assert kiosk(["run", "--config", str(path)]) == 1
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"kiosk run: cannot set up the uplink: uplink.broker.{which} = ")
    assert str(tls[which]) in line and "no such file" in line and "provision device" in line


def test_dropbox_run_with_a_certificate_gone_since_the_check_names_it_in_one_line(
    tmp_path: Path,
    broker: LocalBroker,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN a dropbox config whose client certificate goes after the config was read (ssl
    says only "[Errno 2] No such file or directory")
    WHEN dropbox-agent run builds the box
    THEN its one line names the key, the file and the fix."""
    files = broker.client_config("jakarta-salemba-dropbox-1")
    assert files.cert_file is not None
    cert = tmp_path / "device.crt"
    shutil.copy(files.cert_file, cert)
    broker_table = files.model_copy(update={"cert_file": cert}).model_dump(mode="json")
    config = dropbox_config(tmp_path, uplink={"broker": broker_table})
    path = tmp_path / "dropbox.toml"
    path.write_text(dump_toml(config), encoding="utf-8")
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    from dropbox_agent import app

    build = app.build

    def cert_gone_then_build(*args: Any, **kwargs: Any) -> Any:
        cert.unlink()
        return build(*args, **kwargs)

    monkeypatch.setattr(app, "build", cert_gone_then_build)

    assert dropbox_agent(["run", "--config", str(path)]) == 1
    line = one_line(capsys.readouterr().err)
    assert f"uplink.broker.cert_file = {cert}: no such file" in line and "provision" in line


def test_backoffice_receive_on_a_database_it_cannot_open_says_so_in_one_line(
    tmp_path: Path, broker: LocalBroker, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_backoffice(tmp_path, broker)
    (tmp_path / "events.db").mkdir()
    assert backoffice(["receive", "--config", str(path)]) == 1
    assert "events.db" in one_line(capsys.readouterr().err)


def test_kiosk_run_without_picamera2_stops_once_with_the_fix(
    tmp_path: Path, issuer: SimIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    path = kiosk_file(tmp_path, issuer)
    text = path.read_text().replace('source = "folder"', 'source = "picamera2"')
    path.write_text(text.replace(f'folder = "{tmp_path}/frames"\n', ""))
    assert kiosk(["run", "--config", str(path)]) == 1
    line = one_line(capsys.readouterr().err)
    assert "picamera2" in line and "--system-site-packages" in line


@pytest.mark.parametrize("opener", [CheckinLedger, TicketBook])
def test_a_corrupt_ledger_or_ticket_book_is_moved_aside_and_a_new_one_serves(
    tmp_path: Path, opener: type[CheckinLedger] | type[TicketBook]
) -> None:
    path = tmp_path / "store.db"
    opener(path)._db.close()
    path.write_bytes(b"\x01" * 8192)
    reopened = opener(path)
    assert reopened.moved_aside is not None and reopened.moved_aside.exists()
    assert reopened.problem is not None and "not a usable database" in reopened.problem
    assert reopened._db.execute("PRAGMA quick_check").fetchone()[0] == "ok"


def test_dropbox_config_check_with_a_broken_key_is_one_line(
    tmp_path: Path, broker: LocalBroker, capsys: pytest.CaptureFixture[str]
) -> None:
    client = broker.client_config("dropbox-t")
    bad_key = tmp_path / "bad.key"
    bad_key.write_text("not a key")
    bad_key.chmod(0o600)
    config = dropbox_config(
        tmp_path, uplink={"broker": client.model_copy(update={"key_file": bad_key}).model_dump()}
    )
    path = tmp_path / "dropbox.toml"
    path.write_text(dump_toml(config), encoding="utf-8")
    assert dropbox_agent(["config", "check", str(path)]) == 2
    assert "uplink.broker.cert_file" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize("problem", ["missing_key", "readable_key", "database_is_a_folder"])
def test_backoffice_api_checks_its_files_before_serving(
    tmp_path: Path, broker: LocalBroker, capsys: pytest.CaptureFixture[str], problem: str
) -> None:
    from backoffice.bookings.config import ApiConfig, BookingsConfig

    server = broker.client_config("booking-api")
    assert server.cert_file is not None and server.key_file is not None
    key = tmp_path / "api.key"
    shutil.copy(server.key_file, key)
    key.chmod(0o600)
    database = tmp_path / "bookings.db"
    if problem == "missing_key":
        key.unlink()
    elif problem == "readable_key":
        key.chmod(0o644)
    else:
        database.mkdir()
    config = BookingsConfig(
        database_path=database,
        keys_dir=tmp_path / "keys",
        api=ApiConfig(port=0, tls_cert_file=server.cert_file, tls_key_file=key),
    )
    path = tmp_path / "bookings.toml"
    path.write_text(dump_toml(config), encoding="utf-8")

    if problem == "readable_key":
        assert backoffice(["booking", "check-config", str(path)]) == 0
        assert "warning:" in capsys.readouterr().err
        return
    code = backoffice(["api", "--config", str(path)])
    line = one_line(capsys.readouterr().err)
    if problem == "missing_key":
        assert code == 2 and "api.tls_key_file" in line and "no such file" in line
    else:
        assert code == 1 and "bookings.db" in line
