"""Help that teaches: every command of a tool gets a description and one example."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping


def leaves(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str | None]]:
    """Every runnable command under `parser`: (its words after the tool, parser, one-line help)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, child in action.choices.items():
                words = (*path, name)
                if any(isinstance(a, argparse._SubParsersAction) for a in child._actions):
                    yield from leaves(child, words)
                else:
                    yield words, child, helps.get(name)


class ExampleFormatter(argparse.HelpFormatter):
    """argparse's formatter, except that an "example:" block is printed as written (a command
    must not be re-wrapped: it is meant to be copied)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        head, marker, example = text.partition("example:\n")
        filled = super()._fill_text(head, width, indent) if head.strip() else ""
        if not marker:
            return filled
        return f"{filled}\n\n{marker}{example}" if filled else f"{marker}{example}"


def teach(parser: argparse.ArgumentParser, examples: Mapping[str, str]) -> None:
    """Give each command a description (its one-line help, when it has no longer one) and its
    example from `examples` (keyed by the words after the tool, e.g. "config check")."""
    for words, child, help_text in leaves(parser):
        if not child.description and help_text:
            child.description = help_text[0].upper() + help_text[1:] + "."
        example = examples.get(" ".join(words))
        if example and "example:" not in (child.epilog or ""):
            line = f"example:\n  {example}"
            child.epilog = f"{child.epilog}\n\n{line}" if child.epilog else line
            if child.formatter_class is argparse.HelpFormatter:
                child.formatter_class = ExampleFormatter
