"""`backoffice booking ...`: keygen, issue (token on stdout, QR PNG zxing-cpp reads back), more."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests
import zxingcpp
from PIL import Image

from backoffice.__main__ import main
from tests.kiosk.booking.testkeys import MemoryCheckins, StaticFacts
from uplink.booking import token
from uplink.booking.codes import normalize

REPO = Path(__file__).resolve().parents[3]


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "bookings.toml"
    path.write_text(
        f'database_path = "{tmp_path / "bookings.db"}"\n'
        f'keys_dir = "{tmp_path / "keys"}"\n'
        "[branch_timezones]\n"
        'bali-denpasar = "Asia/Makassar"\n',
        encoding="utf-8",
    )
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_keygen_issue_and_qr_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(_config(tmp_path))
    code, out, _ = _run(capsys, "booking", "keygen", "--config", config)
    assert code == 0
    keys = json.loads(out)
    assert len(keys["kid"]) == 8 and keys["trust_list_sequence"] == 1

    png = tmp_path / "qr" / "booking.png"
    code, out, err = _run(
        capsys,
        "booking",
        "issue",
        "--config",
        config,
        "--branch",
        "bali-denpasar",
        "--service",
        "JKK",
        "--date",
        "2099-06-15",
        "--slot",
        "08:00-09:00",
        "--name",
        "Made Suartini",
        "--party",
        "2",
        "--qr",
        str(png),
    )
    assert code == 0
    text = out.strip()
    assert text.startswith(token.PREFIX) and len(text) <= 300
    assert f"{len(text)} characters" in err and "booking code" in err
    read = zxingcpp.read_barcodes(Image.open(png))
    assert [r.text for r in read] == [text]
    assert read[0].format == zxingcpp.BarcodeFormat.QRCode

    claims = token.parse_claims(token.split(text).signed)
    assert claims.booking.branch == "bali-denpasar" and claims.booking.party_size == 2
    assert claims.booking.slot_start.isoformat() == "2099-06-15T08:00:00+08:00"
    assert claims.booking.masked_name == "M*** S*******"
    assert claims.kid.hex() == keys["kid"]

    trust = tmp_path / "trust.json"
    assert _run(capsys, "booking", "trust-list", "--config", config, "--out", str(trust))[0] == 0
    from kiosk.booking.verifier import BookingVerifier, Rules
    from uplink.booking import trustlist

    held = trustlist.parse(trust.read_bytes(), [trustlist.load_anchor(keys["trust_anchor"])])
    verifier = BookingVerifier(
        Rules("bali-denpasar", claims.booking.slot_start.tzinfo),  # type: ignore[arg-type]
        StaticFacts(held),
        MemoryCheckins(),
    )
    now = datetime(2099, 6, 15, 0, 10, tzinfo=UTC)  # 08:10 WITA
    assert verifier.verify(text, now).reason == "ok"


def test_issue_refuses_a_nameless_booking_and_a_qr_folder_before_issuing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a booking back office with its keys
    WHEN a booking is issued with a name of no printable word, or --qr naming a folder
    THEN it is refused in one line and nothing is issued; a QR file that cannot be written
    after the booking is issued names the booking's code (exit 1)."""
    config = str(_config(tmp_path))
    assert _run(capsys, "booking", "keygen", "--config", config)[0] == 0
    issue = ["booking", "issue", "--config", config, "--branch", "jakarta-salemba",
             "--service", "JHT", "--date", "2099-06-15", "--slot", "08:00-09:00"]  # fmt: skip
    code, out, err = _run(capsys, *issue, "--name", " \x1b[31m ")
    assert (code, out) == (1, "") and err.strip().endswith("give the participant's full name")
    code, out, err = _run(capsys, *issue, "--name", "Budi", "--qr", str(tmp_path))
    assert (code, out) == (2, "")
    assert err.strip() == (
        f"backoffice booking issue: --qr {tmp_path} is a folder; give the PNG file's name, "
        f"e.g. {tmp_path / 'booking.png'}"
    )
    code, out, err = _run(capsys, *issue, "--name", "Budi", "--qr", "/proc/no/such.png")
    assert code == 1 and out.startswith(token.PREFIX)
    last = err.strip().splitlines()[-1]
    assert last.startswith("backoffice booking issue: booking ") and "/proc/no/such.png" in last
    from backoffice.bookings.store import BookingStore

    store = BookingStore(tmp_path / "bookings.db")
    day = store.day("jakarta-salemba", date(2099, 6, 15))
    store.close()
    assert len(day) == 1  # only the booking whose QR file failed: the refusals issued nothing


def test_cancel_withdraw_and_duplicates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(_config(tmp_path))
    keys = json.loads(_run(capsys, "booking", "keygen", "--config", config)[1])
    _, out, err = _run(
        capsys,
        "booking",
        "issue",
        "--config",
        config,
        "--branch",
        "jakarta-salemba",
        "--service",
        "JHT",
        "--date",
        "2099-01-02",
        "--slot",
        "09:00-10:00",
        "--name",
        "Budi",
    )
    code = err.split("booking code ")[1].split(",")[0]
    assert normalize(code) == token.parse_claims(token.split(out.strip()).signed).booking.booking_id

    assert _run(capsys, "booking", "cancel", "--config", config, code)[:2] == (
        0,
        f"booking {code} cancelled\n",
    )
    again = _run(capsys, "booking", "cancel", "--config", config, code)
    assert again[0] == 1 and "already cancelled" in again[2]
    bad = _run(capsys, "booking", "cancel", "--config", config, "7K3-QX9-M2B")
    assert bad[0] == 1 and "check character" in bad[2]

    code_w, out_w, _ = _run(capsys, "booking", "withdraw-key", "--config", config, keys["kid"])
    withdrawn = json.loads(out_w)
    assert code_w == 0 and withdrawn["withdrawn"] == keys["kid"]
    assert withdrawn["reissued"] == 1 and withdrawn["new_kid"] not in (None, keys["kid"])

    dup = _run(
        capsys,
        "booking",
        "duplicates",
        "--config",
        config,
        "--branch",
        "jakarta-salemba",
        "--date",
        "2099-01-02",
    )
    assert dup[:2] == (0, "{}\n")


def test_issue_a_slot_that_ends_at_midnight(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(_config(tmp_path))
    _run(capsys, "booking", "keygen", "--config", config)
    code, out, err = _run(
        capsys, "booking", "issue", "--config", config, "--branch", "jakarta-salemba",
        "--service", "JHT", "--date", "2099-01-02", "--slot", "23:00-00:00", "--name", "Budi",
    )  # fmt: skip
    assert code == 0, err
    booking = token.parse_claims(token.split(out.strip()).signed).booking
    assert booking.slot_start.isoformat() == "2099-01-02T23:00:00+07:00"
    assert booking.slot_end.isoformat() == "2099-01-03T00:00:00+07:00"


def test_usage_and_config_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(_config(tmp_path))
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "booking",
                "issue",
                "--config",
                config,
                "--branch",
                "jakarta-salemba",
                "--service",
                "JHT",
                "--date",
                "2099-01-02",
                "--slot",
                "10:00-09:00",
                "--name",
                "x",
            ]
        )
    assert exited.value.code == 2
    assert "ends before it starts" in capsys.readouterr().err
    no_key = _run(
        capsys,
        "booking",
        "issue",
        "--config",
        config,
        "--branch",
        "jakarta-salemba",
        "--service",
        "JHT",
        "--date",
        "2099-01-02",
        "--slot",
        "09:00-10:00",
        "--name",
        "x",
    )
    assert no_key[0] == 1 and "keygen" in no_key[2]
    bad = tmp_path / "bad.toml"
    bad.write_text('database_path = "x.db"\nkeys_dir = "k"\ntoken_grace_h = 0\n')
    assert _run(capsys, "booking", "check-config", str(bad))[0] == 2
    assert _run(capsys, "booking", "check-config", config)[0] == 0


@pytest.mark.parametrize("command", ["issue", "sample", "duplicates"])
def test_a_day_that_is_no_date_says_the_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """GIVEN a --date of month 13 WHEN a booking command reads it THEN one usage line says what
    is wrong and the form to use (argparse said only "invalid fromisoformat value")."""
    rest = {
        "issue": ["--service", "JHT", "--slot", "09:00-10:00", "--name", "x"],
        "sample": ["--out", str(tmp_path / "out")],
        "duplicates": [],
    }[command]
    argv = ["booking", command, "--config", str(_config(tmp_path)),
            "--branch", "jakarta-salemba", "--date", "2020-13-45", *rest]  # fmt: skip
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.endswith(
        "argument --date: '2020-13-45': month must be in 1..12; use YYYY-MM-DD, e.g. 2020-06-15"
    )


def test_sample_day(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(_config(tmp_path))
    _run(capsys, "booking", "keygen", "--config", config)
    code, out, _ = _run(
        capsys,
        "booking",
        "sample",
        "--config",
        config,
        "--branch",
        "jakarta-salemba",
        "--date",
        "2099-03-04",
        "--count",
        "3",
        "--out",
        str(tmp_path / "s"),
    )
    assert code == 0
    summary = json.loads(out)
    assert summary["images"] == 3
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert len(manifest["bookings"]) == 3
    first = manifest["bookings"][0]
    read = zxingcpp.read_barcodes(Image.open(tmp_path / "s" / first["image"]))
    assert [r.text for r in read] == [first["token"]]


def test_api_command_serves_until_sigterm(tmp_path: Path) -> None:
    """`backoffice api --config F` serves the booking API, tells systemd it is ready and alive
    (its unit is Type=notify with a watchdog) and exits 0 on SIGTERM."""
    config = _config(tmp_path)
    with config.open("a", encoding="utf-8") as handle:
        handle.write("[api]\nport = 0\n")
    assert main(["booking", "keygen", "--config", str(config)]) == 0
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(30)
    process = subprocess.Popen(
        [sys.executable, "-m", "backoffice", "api", "--config", str(config)],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify.sock")},
    )
    try:
        assert process.stderr is not None
        url = ""
        for line in process.stderr:
            if "listening on" in line:
                url = line.rsplit(" ", 1)[1].strip()
                break
        assert url.startswith("http://127.0.0.1:")
        assert notify.recv(64) == b"READY=1"
        assert notify.recv(64) == b"WATCHDOG=1"  # from the serve loop, on every poll
        assert requests.get(url + "/healthz", timeout=5).text == "ok\n"
        assert requests.get(url + "/v1/trust-list", timeout=5).json()["format"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        notify.close()
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
