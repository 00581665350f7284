"""What goes on the paper, independent of the printer: the element vocabulary and its fitting."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Align = Literal["left", "center", "right"]
Size = Literal["normal", "tall", "double", "big"]
"""normal: 1x; tall: 1x wide, 2x high (titles); double: 2x2; big: 3x3 (the queue number)."""

SCALE: dict[Size, tuple[int, int]] = {
    "normal": (1, 1),
    "tall": (1, 2),
    "double": (2, 2),
    "big": (3, 3),
}
"""(width, height) multipliers of each size."""


@dataclass(frozen=True)
class Line:
    """One line of text; `fit` wraps it at word boundaries when it is wider than the paper.

    Attributes:
        text: the words (folded to ASCII when fitted: printers' code pages differ).
        align: where the line sits on the paper.
        size: character size, see `Size`.
        bold: emphasised.
    """

    text: str
    align: Align = "left"
    size: Size = "normal"
    bold: bool = False


@dataclass(frozen=True)
class QrCode:
    """A QR code drawn by the printer (native ESC/POS), centred."""

    content: str
    module_px: int = 6


@dataclass(frozen=True)
class Rule:
    """A horizontal line across the paper."""


@dataclass(frozen=True)
class Feed:
    """Blank lines."""

    lines: int = 1


@dataclass(frozen=True)
class Cut:
    """End of the receipt: feed and cut."""


Element = Line | QrCode | Rule | Feed | Cut


def ascii_text(text: str) -> str:
    """The text in plain ASCII: the printer's code page and our renderer agree on it."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch if ch.isprintable() else " " for ch in folded)


def fit(elements: Sequence[Element], columns: int) -> list[Element]:
    """The elements with every `Line` folded to ASCII and wrapped to the paper's width.

    Args:
        elements: the layout.
        columns: characters per line at normal size (32 on 58 mm paper, 48 on 80 mm).
    """
    return [fitted for element in elements for fitted in _fit(element, columns)]


def _fit(element: Element, columns: int) -> list[Element]:
    if not isinstance(element, Line):
        return [element]
    width = max(1, columns // SCALE[element.size][0])
    text = ascii_text(element.text)
    if element.size == "big":  # the queue number: cut, it is never that long
        return [Line(text[:width], element.align, element.size, element.bold)]
    return [Line(words, element.align, element.size, element.bold) for words in wrap(text, width)]


_BREAK_AFTER = "/.?&=-_"


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` characters, broken between words.

    A word longer than a line (a URL) is broken after ``/ . ? & = - _`` where it can be, never
    inside a run of letters unless nothing else fits; the words after it fill on.
    """
    indent = "  " if text.startswith("- ") else ""
    lines: list[str] = []
    current = ""
    # Each word with the spaces before it, kept within a line ("Nama   : ..." stays aligned).
    for space, word in re.findall(r"( *)(\S+)", text):
        joined = f"{current}{space}{word}" if current.strip() else f"{current}{word}"
        if len(joined) <= width:
            current = joined
            continue
        if current.strip():
            lines.append(current)
            current = indent if len(indent) < width else ""
        room = width - len(current)
        if len(word) <= room:
            current += word
            continue
        *full, last = _break_word(word, room)
        lines.extend(current + piece for piece in full)
        current = (indent if len(indent) < width else "") + last
    if current.strip():
        lines.append(current)
    return lines or [""]


def _break_word(word: str, width: int) -> list[str]:
    pieces: list[str] = []
    while len(word) > width:
        cut = max((i + 1 for i, ch in enumerate(word[:width]) if ch in _BREAK_AFTER), default=0)
        cut = cut or width  # a run of letters longer than the paper: cut at the edge
        pieces.append(word[:cut].strip())
        word = word[cut:].lstrip()
    return [*pieces, word] if word else pieces


def lines_of(elements: Sequence[Element]) -> list[str]:
    """The text lines of a layout (for screens and tests)."""
    return [element.text for element in elements if isinstance(element, Line)]
