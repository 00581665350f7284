"""`kiosk verify TOKEN`: a JSON verdict, exit 0 valid / 1 invalid / 2 bad configuration."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from kiosk.booking.cli import main
from tests.backoffice.bookings.helpers import BRANCH, DAY, BackOffice, make_backoffice, serving
from uplink.booking import codes

NOW = "2020-06-15T09:10:00+07:00"


def _toml(tmp_path: Path, office: BackOffice, api_url: str | None = None) -> Path:
    trust = tmp_path / "trust-list.json"
    trust.write_bytes(office.issuer.trust_list())
    lines = [
        "[uplink]  # other tables are the kiosk's business",
        'device_id = "kiosk-1"',
        "",
        "[booking]",
        'kiosk_id = "kiosk-1"',
        f'branch = "{BRANCH}"',
        f'trust_anchors = ["{office.issuer.root_public_key()}"]',
        f'trust_list_path = "{trust}"',
        f'cache_dir = "{tmp_path / "cache"}"',
        f'ledger_path = "{tmp_path / "ledger.db"}"',
        "retry_backoff_s = 0",
    ]
    if api_url:
        lines.append(f'api_base_url = "{api_url}"')
    path = tmp_path / "kiosk.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def test_valid_token_exits_0_with_the_booking(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    office = make_backoffice(tmp_path)
    token = office.issue(9)
    config = _toml(tmp_path, office)
    code, verdict = _run(capsys, "verify", token, "--config", str(config), "--now", NOW)
    assert code == 0
    assert verdict["accepted"] is True and verdict["reason"] == "ok"
    booking = verdict["booking"]
    assert isinstance(booking, dict)
    assert booking["branch"] == BRANCH and booking["masked_name"] == "B*** S******"
    assert booking["slot_start"] == "2020-06-15T09:00:00+07:00"
    assert verdict["cache_age_s"] is None  # never synced


def test_refused_token_exits_1_with_the_reason_and_texts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    office = make_backoffice(tmp_path)
    token = office.issue(9)
    config = _toml(tmp_path, office)
    code, verdict = _run(
        capsys, "verify", token, "--config", str(config), "--now", "2020-06-16T09:10:00+07:00"
    )
    assert code == 1
    assert verdict["reason"] == "wrong_day"
    assert verdict["message_id"] == "Pemesanan Anda untuk kemarin, Senin, 15 Juni 2020."
    code, verdict = _run(capsys, "verify", "HC1:NCFOXN", "--config", str(config))
    assert (code, verdict["reason"]) == (1, "wrong_prefix")


def test_token_from_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    office = make_backoffice(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(office.issue(9) + "\n"))
    code, verdict = _run(
        capsys, "verify", "-", "--config", str(_toml(tmp_path, office)), "--now", NOW
    )
    assert (code, verdict["reason"]) == (0, "ok")


def test_typed_code_is_looked_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    office = make_backoffice(tmp_path)
    office.issue(9)
    booking_id = office.store.day(BRANCH, DAY)[0].booking.booking_id
    with serving(office) as api:
        config = _toml(tmp_path, office, api.url)
        code, verdict = _run(
            capsys,
            "verify",
            codes.display(booking_id),
            "--code",
            "--config",
            str(config),
            "--now",
            NOW,
        )
    assert (code, verdict["reason"]) == (0, "ok")


def test_bad_configuration_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.toml"
    assert main(["verify", "LA1:X", "--config", str(missing)]) == 2
    assert "cannot read the file" in capsys.readouterr().err
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(b'[booking]\nkiosk_id = "caf\xe9"\n')
    assert main(["verify", "LA1:X", "--config", str(latin1)]) == 2  # was 'unexpected error'
    assert "not UTF-8 text (byte 0xe9 on line 2)" in capsys.readouterr().err
    broken = tmp_path / "broken.toml"
    broken.write_text('[booking]\nkiosk_id = "kiosk-1"\nbranch = "Bad Branch"\n')
    assert main(["verify", "LA1:X", "--config", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "booking.branch" in err and "booking.trust_anchors" in err
    office = make_backoffice(tmp_path)
    assert (
        main(
            [
                "verify",
                "LA1:X",
                "--config",
                str(_toml(tmp_path, office)),
                "--now",
                "2020-06-15T09:10",
            ]
        )
        == 2
    )
    assert "UTC offset" in capsys.readouterr().err
