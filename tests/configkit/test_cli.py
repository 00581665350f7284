"""configkit.cli, the tools' one scaffold: `-v`, logging, exit codes and stop signals."""

from __future__ import annotations

import argparse
import logging
import os
import signal
from collections.abc import Callable

import pytest

from configkit import ConfigError, Problem, cli


class BoxJammed(Exception):
    """A tool's own error."""


class LidOpen(BoxJammed):
    """A more particular one."""


def _tool(func: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
    parser = cli.new_parser("box", "A tool.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("go").set_defaults(func=func)
    config = sub.add_parser("config").add_subparsers(dest="config_command", required=True)
    config.add_parser("check").set_defaults(func=func)
    return parser


def _raise(error: BaseException) -> Callable[[argparse.Namespace], int]:
    def func(_args: argparse.Namespace) -> int:
        raise error

    return func


FAILURES = (
    cli.Failure(LidOpen, 3, "refused: {error}"),
    cli.Failure(BoxJammed, cli.EXIT_FAILED),
)


def test_the_command_s_own_code_is_the_exit_code() -> None:
    assert cli.run(_tool(lambda _args: 0), ["go"]) == cli.EXIT_OK
    assert cli.run(_tool(lambda _args: 5), ["go"]) == 5


def test_a_known_error_is_one_line_and_its_code_the_first_match_winning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.run(_tool(_raise(BoxJammed("the belt is stuck"))), ["go"], failures=FAILURES) == 1
    assert capsys.readouterr().err == "box go: the belt is stuck\n"
    assert cli.run(_tool(_raise(LidOpen("close the lid"))), ["go"], failures=FAILURES) == 3
    assert capsys.readouterr().err == "refused: close the lid\n"


def test_a_config_error_is_exit_2_with_one_line_per_problem(
    capsys: pytest.CaptureFixture[str],
) -> None:
    problems = [
        Problem("box.toml", "pins.beam", "banana", "give a GPIO number, e.g. 17"),
        Problem("box.toml", "uplink", "", "missing; add an [uplink] table"),
    ]
    code = cli.run(_tool(_raise(ConfigError(problems))), ["go"], failures=FAILURES)
    assert code == cli.EXIT_USAGE == 2
    assert capsys.readouterr().err.splitlines() == [str(p) for p in problems]


def test_an_unexpected_error_is_one_line_and_exit_1_the_traceback_only_under_v(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    parser = _tool(_raise(RuntimeError("boom")))
    assert cli.run(parser, ["config", "check"]) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert err == "box config check: unexpected error: RuntimeError: boom (-v shows where)\n"
    with caplog.at_level(logging.DEBUG, logger="configkit.cli"):
        assert cli.run(_tool(_raise(RuntimeError("boom"))), ["-v", "go"]) == cli.EXIT_FAILED
    assert "Traceback" not in capsys.readouterr().err
    [record] = [r for r in caplog.records if r.name == "configkit.cli" and r.exc_info]
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError


def test_ctrl_c_in_a_one_shot_command_is_exit_130(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(_tool(_raise(KeyboardInterrupt())), ["go"]) == cli.EXIT_INTERRUPTED
    assert capsys.readouterr().err == "box: interrupted\n"


def test_usage_errors_are_argparse_s_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        cli.run(_tool(lambda _args: 0), ["fly"])
    assert raised.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_v_logs_debug_and_the_tool_chooses_the_quiet_level(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    levels: list[object] = []
    monkeypatch.setattr(logging, "basicConfig", lambda **kw: levels.append(kw["level"]))
    parser = _tool(lambda _args: 0)
    cli.run(parser, ["go"])
    cli.run(parser, ["-v", "go"])
    cli.run(parser, ["go"], log_level=lambda args: logging.INFO if args.command == "go" else 0)
    assert levels == [logging.WARNING, logging.DEBUG, logging.INFO]


def test_prepare_sees_the_parsed_arguments_before_the_command() -> None:
    seen: list[str] = []
    parser = _tool(lambda _args: seen.append("command") or 0)
    cli.run(parser, ["go"], prepare=lambda args: seen.append(f"prepare {args.command}"))
    assert seen == ["prepare go", "command"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_sigterm_and_sigint_set_the_stop_event_and_the_old_handlers_come_back(
    sig: signal.Signals,
) -> None:
    before = signal.getsignal(sig)
    stopped: list[bool] = []
    with cli.stop_on_signals(lambda: stopped.append(True)) as stop:
        assert not stop.is_set()
        os.kill(os.getpid(), sig)
        assert stop.wait(5)
    assert stopped == [True]
    assert signal.getsignal(sig) is before


def test_a_stop_signal_while_the_loop_holds_the_events_lock_still_stops_it() -> None:
    """GIVEN a service's main thread inside `stop.wait()`, holding the event's lock, at the
    moment SIGTERM's handler runs (found by the config sweep: a kiosk that ignored SIGTERM)
    THEN the handler returns at once and the event is set (an `Event.set()` in the handler
    itself would wait for that lock forever)."""
    with cli.stop_on_signals() as stop:
        with stop._cond:  # what `stop.wait()` holds between its bytecodes
            signal.raise_signal(signal.SIGTERM)  # the handler runs here, on this thread
        assert stop.wait(5)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2020-13-45", "month must be in 1..12"),
        ("2020-02-30", "day is out of range for month"),
        ("15-06-2020", "not a date"),
        ("", "not a date"),
    ],
)
def test_a_calendar_day_that_is_no_date_says_why_and_the_form(text: str, reason: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as refused:
        cli.calendar_day(text)
    assert str(refused.value) == f"{text!r}: {reason}; use YYYY-MM-DD, e.g. 2020-06-15"


def test_a_calendar_day_is_read() -> None:
    assert cli.calendar_day("2020-06-15").isoformat() == "2020-06-15"
