"""Option names and values read the same across the tools: one `--service`, the same values
(JHT, JKK, JKM, JP in any case), the same help and the same refusal in every command."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from backoffice.__main__ import main as backoffice
from configkit.helptext import leaves
from kiosk.__main__ import main as kiosk
from tests.test_help import TOOLS, _parser_of
from uplink.booking.options import SERVICE_VALUES, service_argument

ISSUE = ["booking", "issue", "--config", "/nonexistent.toml", "--branch", "jakarta-salemba"]
ISSUE += ["--date", "2020-06-15", "--slot", "09:00-10:00", "--name", "Budi"]


def _options(tool: str, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, argparse.Action]]:
    """(command, option) for every option of every command of `tool`."""
    found = []
    for words, parser, _help in leaves(_parser_of(TOOLS[tool], monkeypatch)):
        for action in parser._actions:
            found += [(" ".join((tool, *words)), action)]
    return found


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_a_service_is_always_given_as_service_with_the_same_values(
    tool: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN every command of the four tools
    THEN no option is named --walkin, and every option taking a claim programme is --service,
    parsed by the one service_argument and with the values in its help."""
    options = _options(tool, monkeypatch)
    assert not [c for c, a in options if "--walkin" in a.option_strings]
    takes_service = [
        (command, action)
        for command, action in options
        if action.metavar == "SERVICE" or action.type is service_argument
    ]
    for command, action in takes_service:
        assert action.option_strings == ["--service"], command
        assert action.type is service_argument, command
        assert SERVICE_VALUES in (action.help or ""), command
    expected = {
        "backoffice": {"backoffice booking issue", "backoffice booking sample"},
        "kiosk": {"kiosk checkin"},
    }
    assert {c for c, _ in takes_service} == expected.get(tool, set())


@pytest.mark.parametrize("text", ["jkk", "JKK", " Jkk ", "jht", "jkm", "jp", "JP"])
def test_every_value_in_any_case_is_one_service(text: str) -> None:
    assert service_argument(text) == text.strip().upper()


@pytest.mark.parametrize(
    "argv",
    [
        [*ISSUE, "--service", "jkx"],
        ["booking", "sample", "--config", "/x.toml", "--branch", "jakarta-salemba",
         "--date", "2020-06-15", "--out", "/tmp/x", "--service", "jkx"],
    ],
)  # fmt: skip
def test_a_wrong_service_is_refused_alike_by_the_back_office(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        backoffice(argv)
    assert exited.value.code == 2
    assert "service 'JKX' is not one of JHT, JKK, JKM, JP (any case)" in capsys.readouterr().err


def test_a_wrong_service_is_refused_alike_by_the_kiosk(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        kiosk(["checkin", "--simulate", "--demo", "1", "--out", "x", "--service", "jkx"])
    assert exited.value.code == 2
    assert "service 'JKX' is not one of JHT, JKK, JKM, JP (any case)" in capsys.readouterr().err


def test_booking_issue_takes_a_service_in_any_case_like_kiosk_checkin(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Parsed (then stops at the missing config, exit 2), not refused by argparse.
    assert backoffice([*ISSUE, "--service", "jkk"]) == 2
    assert "cannot read the file" in capsys.readouterr().err


def test_a_walkin_service_in_lower_case_prints_its_ticket(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`kiosk checkin --service jkm`: a walk-in choosing JKM gets a JKM walk-in ticket."""
    out = tmp_path / "out"
    argv = ["checkin", "--simulate", "--demo", "0", "--out", str(out), "--service", "jkm"]
    assert kiosk([*argv, "--now", "2026-06-15T09:30:00+07:00"]) == 0
    [record] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert record["phase"] == "ticket" and record["ticket_number"].startswith("JKM C")


def test_a_sample_day_of_one_service(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`booking sample --service jkk --service JP`: only those programmes are booked."""
    config = tmp_path / "booking.toml"
    config.write_text(
        f'database_path = "{tmp_path / "b.db"}"\nkeys_dir = "{tmp_path / "keys"}"\n', "utf-8"
    )
    assert backoffice(["booking", "keygen", "--config", str(config)]) == 0
    argv = ["booking", "sample", "--config", str(config), "--branch", "jakarta-salemba"]
    argv += ["--date", "2099-03-04", "--count", "12", "--out", str(tmp_path / "s")]
    assert backoffice([*argv, "--service", "jkk", "--service", "JP"]) == 0
    capsys.readouterr()
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert {b["service"] for b in manifest["bookings"]} == {"JKK", "JP"}


@pytest.mark.parametrize("count", ["0", "-5", "100000000", "many"])
def test_a_sample_count_out_of_range_is_a_usage_line(
    count: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """-5 issued nothing and said so in JSON; 100000000 issued bookings for hours."""
    argv = ["booking", "sample", "--config", "/x.toml", "--branch", "jakarta-salemba",
            "--date", "2099-03-04", "--out", "/tmp/x", "--count", count]  # fmt: skip
    with pytest.raises(SystemExit) as exited:
        backoffice(argv)
    assert exited.value.code == 2 and "argument --count: " in capsys.readouterr().err


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_every_option_and_argument_says_what_it_is(
    tool: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: `booking sample`'s arguments were undocumented. Every option and positional
    argument of every command has a help text."""
    undocumented = [
        f"{command} {'/'.join(action.option_strings) or action.dest}"
        for command, action in _options(tool, monkeypatch)
        if not action.help and not isinstance(action, argparse._SubParsersAction)
    ]
    assert undocumented == []
