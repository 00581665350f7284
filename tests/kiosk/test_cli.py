"""The `kiosk` command line: scan, verify, checkin --simulate, config check, and the examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import cv2
import numpy as np
import pytest
import zxingcpp
from PIL import Image

from configkit import dump_toml
from kiosk.__main__ import main
from kiosk.sim.bookings import SimIssuer
from kiosk.sim.demo import demo_bookings, demo_config
from kiosk.sim.frames import place, qr_image
from tests.kiosk.rig import NOW

EXAMPLES = Path(__file__).resolve().parents[2] / "kiosk" / "examples"


def lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def issuer() -> SimIssuer:
    return SimIssuer()


@pytest.fixture
def config_file(tmp_path: Path, issuer: SimIssuer) -> Path:
    config = demo_config(tmp_path / "kiosk", issuer)
    path = tmp_path / "kiosk.toml"
    path.write_text(dump_toml(config), encoding="utf-8")
    return path


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_every_example_config_passes_the_check(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "check", str(example)]) == 0
    assert capsys.readouterr().out.strip().endswith(": OK")


def test_a_bad_config_gives_one_line_per_problem_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    text = (EXAMPLES / "kiosk.toml").read_text(encoding="utf-8")
    bad.write_text(text.replace('threshold_c = 37.5', 'threshold_c = 45.0')
                   .replace('kiosk_code = "1"', 'kiosk_code = "12"'), encoding="utf-8")  # fmt: skip

    assert main(["config", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "thermometer.threshold_c" in err and "tickets.kiosk_code" in err
    assert len(err.strip().splitlines()) == 2


def test_scan_prints_one_json_line_per_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with_code = tmp_path / "code.png"
    cv2.imwrite(str(with_code), place(qr_image("LA1:HELLO"), background=150))
    empty = tmp_path / "empty.png"
    cv2.imwrite(str(empty), np.full((120, 160), 128, np.uint8))

    assert main(["scan", str(with_code), str(empty)]) == 0

    first, second = lines(capsys.readouterr().out)
    assert first["file"] == str(with_code) and first["texts"] == ["LA1:HELLO"]
    assert isinstance(first["ms"], float)
    assert second["texts"] == []


def test_scan_reads_other_barcodes_a_plain_zxing_call_would(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = zxingcpp.create_barcode("12345678", zxingcpp.BarcodeFormat.Code128)
    path = tmp_path / "bar.png"
    Image.fromarray(np.pad(np.array(code.to_image(scale=3)), 30, constant_values=255)).save(path)

    main(["scan", str(path)])

    assert lines(capsys.readouterr().out)[0]["texts"] == ["12345678"]


def test_scan_reports_an_unreadable_file_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.png"

    assert main(["scan", str(missing)]) == 1
    (record,) = lines(capsys.readouterr().out)
    assert record["texts"] == [] and "cannot read the image" in str(record["error"])


def test_verify_prints_the_verdict_and_exits_0_or_1(
    config_file: Path, issuer: SimIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    from configkit import load
    from kiosk.config import KioskConfig

    config = load(KioskConfig, config_file)
    zone = config.booking.zone
    slot = NOW.astimezone(zone).replace(minute=0)
    token = issuer.issue("B0000100", branch=config.booking.branch, slot_start=slot, zone=zone)
    now = NOW.isoformat()

    assert main(["verify", token, "--config", str(config_file), "--now", now]) == 0
    accepted = json.loads(capsys.readouterr().out)
    assert accepted["accepted"] is True and accepted["booking"]["booking_id"] == "B0000100"

    assert main(["verify", "LA1:NOPE", "--config", str(config_file), "--now", now]) == 1
    refused = json.loads(capsys.readouterr().out)
    assert refused["accepted"] is False and refused["message_id"]


def test_checkin_simulate_with_a_config_turns_images_into_tickets_and_events(
    tmp_path: Path, config_file: Path, issuer: SimIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    from configkit import load
    from kiosk.config import KioskConfig

    config = load(KioskConfig, config_file)
    made = demo_bookings(tmp_path / "qr", issuer, config, at=NOW, count=2)
    out = tmp_path / "out"
    args = ["checkin", "--simulate", "--config", str(config_file), "--out", str(out),
            "--now", NOW.isoformat(), "--service", "jkk", "--temperature", "36.5",
            "--temperature", "38.4", "--temperature", "36.7",
            *(str(b.image) for b in made)]  # fmt: skip

    assert main(args) == 0

    records = lines(capsys.readouterr().out)
    assert [r["phase"] for r in records] == ["ticket", "referred", "ticket"]
    assert records[2]["ticket_number"] == "JKK C1-001"
    for record in (records[0], records[2]):
        (png,) = cast(list[str], record["png"])
        url = [b.text for b in zxingcpp.read_barcodes(Image.open(png)) if b.valid]
        assert url and url[0].startswith("https://")
    events = [json.loads(line)["type"] for line in (out / "events.jsonl").read_text().splitlines()]
    assert events.count("kiosk.checkin.accepted") == 2
    assert events.count("kiosk.temperature.outcome") == 3
    assert not config.booking.ledger_path.exists()  # the kiosk's own ledger is never touched


def test_checkin_simulate_demo_needs_nothing_but_an_out_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo-out"

    assert main(["checkin", "--simulate", "--demo", "3", "--out", str(out), "--paper", "1"]) == 0

    records = lines(capsys.readouterr().out)
    assert [r["phase"] for r in records] == ["ticket"] * 3
    assert [r["printed"] for r in records] == [True, False, False]  # paper ran out
    assert len(list(out.glob("ticket-*.png"))) == 1


@pytest.mark.parametrize(
    "args",
    [
        ["checkin", "--simulate", "--demo", "1", "--out", "x", "--temperature", "hot"],
        ["checkin", "--simulate", "--demo", "1", "--out", "x", "--now", "2026-06-15T09:00"],
        ["checkin", "--simulate", "--demo", "1", "--out", "x", "no-such-image.png"],
    ],
)
def test_checkin_usage_errors_exit_2(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2


@pytest.mark.parametrize("now", ["2026-02-30T09:00:00+07:00", "tomorrow"])
def test_checkin_with_an_impossible_now_names_the_option_and_the_form(
    now: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It said only "day is out of range for month" or "Invalid isoformat string"."""
    assert main(["checkin", "--simulate", "--demo", "1", "--out", str(tmp_path), "--now", now]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"kiosk checkin: --now {now!r}: ")
    assert line.endswith("; use e.g. 2020-06-15T09:10:00+07:00")


def test_checkin_without_simulate_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["checkin", "--demo", "1", "--out", "x"])
    assert raised.value.code == 2
    assert "--simulate" in capsys.readouterr().err


def test_a_device_unusable_at_start_is_one_line_and_exit_1(
    tmp_path: Path,
    issuer: SimIssuer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from kiosk import app
    from kiosk.errors import CameraError

    (tmp_path / "frames").mkdir()
    config = demo_config(
        tmp_path / "kiosk", issuer, camera={"source": "folder", "folder": str(tmp_path / "frames")}
    )
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(dump_toml(config), encoding="utf-8")

    def no_camera(*_args: object) -> None:
        raise CameraError("usb camera /dev/video0: not found; plug it in or set [camera] device")

    monkeypatch.setattr(app, "run", no_camera)

    assert main(["run", "--config", str(config_file)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        "kiosk run: usb camera /dev/video0: not found; plug it in or set [camera] device"
    )
    assert not any("Traceback" in line for line in err)
