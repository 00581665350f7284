"""Every exception a tool's package raises on purpose reaches its user as one line and the
documented exit code, never "unexpected error" and a traceback: each tool maps its package's root
exception (and what it borrows: the uplink's StorageError, receipts' PrinterError)."""

from __future__ import annotations

import argparse
import importlib
import inspect
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import pytest

from configkit import cli
from dropbox_agent.errors import ScenarioError
from provisioning.errors import InvalidSetup, Refused
from tests.test_architecture import defined_exceptions

ROOT = Path(__file__).resolve().parents[1]
TOOLS = {  # package: (tool, its CLI module)
    "kiosk": ("kiosk", "kiosk.__main__"),
    "dropbox_agent": ("dropbox-agent", "dropbox_agent.__main__"),
    "provisioning": ("provision", "provisioning.__main__"),
    "backoffice": ("backoffice", "backoffice.__main__"),
}
# The exit code of an error a tool knows: 1, but for these (the first match wins).
EXIT_CODES: list[tuple[type[BaseException], int]] = [
    (Refused, 3),  # provisioning's policy refusals (ReservedIdentity, DuplicateIdentity)
    (InvalidSetup, cli.EXIT_USAGE),
    (ScenarioError, cli.EXIT_USAGE),
]
MESSAGE = "kamera tidak ditemukan; check [camera] device"


def _public_exceptions(package: str) -> list[tuple[str, type[BaseException]]]:
    return [(w, c) for w, c in defined_exceptions(package) if not c.__name__.startswith("_")]


CASES = [
    pytest.param(package, cls, id=where)
    for package in sorted(TOOLS)
    for where, cls in _public_exceptions(package)
]


def _made(cls: type[BaseException], message: str) -> BaseException:
    """An instance saying `message` (some take a reason or code first: `TokenError`)."""
    required = [
        p
        for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return cls(*["reason"] * (len(required) - 1), message) if required else cls(message)


def _raising(tool: str, error: BaseException) -> argparse.ArgumentParser:
    parser = cli.new_parser(tool, None)
    sub = parser.add_subparsers(dest="command", required=True)

    def fail(_args: argparse.Namespace) -> int:
        raise error

    sub.add_parser("run").set_defaults(func=fail)
    return parser


@pytest.mark.parametrize(("package", "cls"), CASES)
def test_every_error_a_package_raises_is_one_line_from_its_tool(
    package: str, cls: type[BaseException], capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN any exception the package defines, raised by one of its tool's commands
    WHEN the tool's scaffold runs the command with the tool's error mapping
    THEN the user reads one line with the message and gets the documented exit code."""
    tool, module = TOOLS[package]
    failures = importlib.import_module(module).FAILURES
    code = cli.run(_raising(tool, _made(cls, MESSAGE)), ["run"], failures=failures)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert MESSAGE in lines[0] and "unexpected error" not in lines[0], lines[0]
    expected = next((c for base, c in EXIT_CODES if issubclass(cls, base)), cli.EXIT_FAILED)
    assert code == expected


@pytest.mark.parametrize("package", sorted(TOOLS))
def test_each_tool_runs_with_its_error_mapping(
    package: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool, name = TOOLS[package]
    module: ModuleType = importlib.import_module(name)
    seen: list[object] = []

    def spy(_parser: argparse.ArgumentParser, _argv: Sequence[str] | None, **kw: object) -> int:
        seen.append(kw.get("failures"))
        return 0

    monkeypatch.setattr(cli, "run", spy)
    assert module.main(["--help"]) == 0
    assert seen == [module.FAILURES], tool
