"""The four tools go through one scaffold (configkit.cli): `-v`, exit codes and stop signals."""

from __future__ import annotations

import importlib
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from backoffice.config import BackofficeConfig
from configkit import cli, dump_toml, load
from dropbox_agent.config import DropboxConfig
from kiosk.sim.bookings import SimIssuer
from kiosk.sim.demo import demo_config
from uplink.config import BrokerConfig

ROOT = Path(__file__).resolve().parents[1]
PLAIN = BrokerConfig(host="127.0.0.1", port=1883, tls=False)  # never reached: the loops are fakes
Main = Callable[[Sequence[str]], int]
TOOLS = {
    "kiosk": "kiosk.__main__",
    "dropbox-agent": "dropbox_agent.__main__",
    "backoffice": "backoffice.__main__",
    "provision": "provisioning.__main__",
}
# A command that loads a configuration, per tool, given a folder with no config in it.
LOADS_A_CONFIG = {
    "kiosk": ["run", "--config", "{tmp}/kiosk.toml"],
    "dropbox-agent": ["run", "--config", "{tmp}/dropbox.toml"],
    "backoffice": ["receive", "--config", "{tmp}/backoffice.toml"],
    "provision": ["device", "show", "--root", "{tmp}"],
}
# A valid config check per tool: a command that succeeds here.
CHECKS = {
    "kiosk": ["config", "check", "kiosk/examples/kiosk.toml"],
    "dropbox-agent": ["config", "check", "dropbox_agent/examples/dropbox.toml"],
    "backoffice": ["config", "check", "backoffice/examples/backoffice.toml"],
    "provision": ["config", "check", "--role", "dropbox", "dropbox_agent/examples/dropbox.toml"],
}


def main_of(tool: str) -> Main:
    main: Main = importlib.import_module(TOOLS[tool]).main
    return main


@pytest.fixture
def scaffold_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The prog of every parser configkit.cli.run ran (the real run does the work)."""
    ran: list[str] = []
    real = cli.run

    def spy(parser: object, *args: object, **kwargs: object) -> int:
        ran.append(parser.prog)  # type: ignore[attr-defined]
        return real(parser, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cli, "run", spy)
    return ran


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_v_means_debug_logging_in_every_tool(
    tool: str, scaffold_runs: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    levels: list[int] = []
    monkeypatch.setattr(cli, "configure_logging", lambda verbose, level: levels.append(
        logging.DEBUG if verbose else level
    ))  # fmt: skip
    assert main_of(tool)(["-v", *CHECKS[tool]]) == cli.EXIT_OK
    assert main_of(tool)(CHECKS[tool]) == cli.EXIT_OK
    assert scaffold_runs == [tool, tool]
    assert levels[0] == logging.DEBUG and levels[1] in (logging.INFO, logging.WARNING)


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_a_missing_config_is_exit_2_with_one_line_naming_it_in_every_tool(
    tool: str, tmp_path: Path, scaffold_runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [word.format(tmp=tmp_path) for word in LOADS_A_CONFIG[tool]]
    assert main_of(tool)(argv) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "Traceback" not in err
    assert scaffold_runs == [tool]


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_an_unexpected_error_is_one_line_and_exit_1_in_every_tool(
    tool: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)

    def broken(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("a bug")

    # Every tool's `config check` runs configkit.check_command through its own module.
    module = importlib.import_module(TOOLS[tool])
    if tool == "provision":
        module = importlib.import_module("provisioning.cli.check")
    monkeypatch.setattr(module, "check_command", broken)
    assert main_of(tool)(CHECKS[tool]) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"{tool} config check: unexpected error: RuntimeError: a bug (-v shows where)"
    ]


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_a_path_that_cannot_be_used_is_one_line_naming_it_in_every_tool(
    tool: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a command that meets a file it cannot use (`kiosk ui gallery --out /proc/x`)
    THEN one line names the file and the reason, exit 1 (it was 'unexpected error:
    FileNotFoundError: [Errno 2] ...')."""
    monkeypatch.chdir(ROOT)

    def no_folder(*_args: object, **_kwargs: object) -> int:
        raise FileNotFoundError(2, "No such file or directory", "/proc/x/out")

    module = importlib.import_module(TOOLS[tool])
    if tool == "provision":
        module = importlib.import_module("provisioning.cli.check")
    monkeypatch.setattr(module, "check_command", no_folder)
    code = main_of(tool)(CHECKS[tool])
    err = capsys.readouterr().err
    if tool == "provision":  # provision's own Failure for OSError says it in its words
        assert code == cli.EXIT_FAILED and "/proc/x/out" in err and len(err.splitlines()) == 1
        return
    assert code == cli.EXIT_FAILED
    assert err.splitlines() == [
        f"{tool} config check: /proc/x/out: No such file or directory; check the path"
    ]


# -- stop signals: each service command stops cleanly on SIGTERM, through cli.stop_on_signals


@pytest.fixture
def signal_scopes(monkeypatch: pytest.MonkeyPatch) -> list[threading.Event]:
    """Every stop event a tool took from cli.stop_on_signals (the real one)."""
    taken: list[threading.Event] = []
    real = cli.stop_on_signals

    def spy(*args: object, **kwargs: object) -> AbstractContextManager[threading.Event]:
        def scope() -> Iterator[threading.Event]:
            with real(*args, **kwargs) as stop:  # type: ignore[arg-type]
                taken.append(stop)
                yield stop

        from contextlib import contextmanager

        return contextmanager(scope)()

    monkeypatch.setattr(cli, "stop_on_signals", spy)
    return taken


def _terminated(*args: object, **_kwargs: object) -> None:
    """A service loop that is sent SIGTERM and returns once its stop event is set."""
    stop = next(a for a in (*args, *_kwargs.values()) if isinstance(a, threading.Event))
    os.kill(os.getpid(), signal.SIGTERM)
    assert stop.wait(10), "SIGTERM did not set the stop event"


def test_kiosk_run_stops_on_sigterm(
    tmp_path: Path, signal_scopes: list[threading.Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk import app
    from kiosk.__main__ import main

    (tmp_path / "frames").mkdir()
    config = demo_config(
        tmp_path / "kiosk",
        SimIssuer(),
        camera={"source": "folder", "folder": str(tmp_path / "frames")},
    )
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(dump_toml(config), encoding="utf-8")
    monkeypatch.setattr(app, "run", _terminated)
    before = signal.getsignal(signal.SIGTERM)
    assert main(["run", "--config", str(config_file)]) == cli.EXIT_OK
    assert len(signal_scopes) == 1 and signal_scopes[0].is_set()
    assert signal.getsignal(signal.SIGTERM) is before


def test_dropbox_agent_run_stops_on_sigterm(
    tmp_path: Path, signal_scopes: list[threading.Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dropbox_agent import app
    from dropbox_agent.__main__ import main
    from dropbox_agent.adapters import gpio

    monkeypatch.setattr(gpio, "is_usable", lambda: (True, ""))
    monkeypatch.setattr(app, "run", _terminated)
    example = load(DropboxConfig, ROOT / "dropbox_agent" / "examples" / "dropbox.toml")
    uplink = example.uplink.model_copy(update={"broker": PLAIN, "outbox_path": tmp_path / "o.db"})
    config = example.model_copy(update={"uplink": uplink, "local_db_path": tmp_path / "box.db"})
    config_file = tmp_path / "dropbox.toml"
    config_file.write_text(dump_toml(config), encoding="utf-8")
    assert main(["run", "--config", str(config_file)]) == cli.EXIT_OK
    assert len(signal_scopes) == 1 and signal_scopes[0].is_set()


def test_backoffice_receive_stops_on_sigterm(
    tmp_path: Path, signal_scopes: list[threading.Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    import backoffice.__main__ as backoffice

    class Receiver:
        """Stands in for the real one (which tests/backoffice/test_cli.py runs and signals)."""

        stored = duplicates = rejected = 0

        def __init__(self, *_args: object, **_kwargs: object) -> None:
            self.stopped = False

        def start(self) -> None:
            threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGTERM)).start()

        def wait_ready(self, timeout: float) -> bool:
            return False

        def stop(self) -> None:
            self.stopped = True

    monkeypatch.setattr(backoffice, "Receiver", Receiver)
    config = BackofficeConfig(
        broker=PLAIN,
        database_path=tmp_path / "events.db",
    )
    config_file = tmp_path / "backoffice.toml"
    config_file.write_text(dump_toml(config), encoding="utf-8")
    assert backoffice.main(["receive", "--config", str(config_file)]) == cli.EXIT_OK
    assert len(signal_scopes) == 1 and signal_scopes[0].is_set()
