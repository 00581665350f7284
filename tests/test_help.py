"""Help that teaches: every command of the four tools has a description and one example."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from configkit.helptext import leaves

TOOLS = {
    "kiosk": "kiosk.__main__",
    "dropbox-agent": "dropbox_agent.__main__",
    "provision": "provisioning.__main__",
    "backoffice": "backoffice.__main__",
}


def _parser_of(module_name: str, monkeypatch: pytest.MonkeyPatch) -> argparse.ArgumentParser:
    """The tool's finished parser, caught as its main() parses."""
    import importlib

    seen: list[argparse.ArgumentParser] = []

    def catch(self: argparse.ArgumentParser, *_a: object, **_k: object) -> None:
        seen.append(self)
        raise SystemExit(0)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", catch)
    main: Callable[[Sequence[str]], int] = importlib.import_module(module_name).main
    with pytest.raises(SystemExit):
        main([])
    monkeypatch.undo()
    return seen[0]


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_every_command_has_a_description_and_an_example(
    tool: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    parser = _parser_of(TOOLS[tool], monkeypatch)
    commands = list(leaves(parser))
    assert len(commands) >= 5
    for words, child, _help in commands:
        name = " ".join((tool, *words))
        assert child.description, f"{name}: no description"
        text = child.format_help()
        assert "example:" in text, f"{name}: no example"
        example = text.split("example:", 1)[1].strip().splitlines()[0]
        assert name in example, f"{name}: the example is for another command: {example}"
        assert "Commands::" not in text and "VERIFY_CONFIG" not in text


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_the_readme_s_table_of_tools_names_every_command(
    tool: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A newcomer reads the README's table to find a command: none may be missing from it
    (`kiosk voices`, `hash-pin`, `ui`, `dropbox-agent hash-secret`, `provision key` and
    `test-card` were)."""
    parser = _parser_of(TOOLS[tool], monkeypatch)
    commands = {words[0] for words, _child, _help in leaves(parser)}
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    [row] = [line for line in readme.splitlines() if line.startswith(f"| `{tool} ")]
    missing = [c for c in sorted(commands) if not re.search(rf"`({tool} )?{re.escape(c)}\b", row)]
    assert missing == []
