"""One value for every text a participant reads: Bahasa Indonesia first, English second."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Lang = Literal["id", "en"]
LANGS: tuple[Lang, ...] = ("id", "en")
"""The languages in the order they are shown (Bahasa Indonesia is the default)."""


@dataclass(frozen=True)
class Bilingual:
    """One text in both languages; neither can be left out.

    Screens, refusal reasons and slips carry texts as `Bilingual` values, so a line is never
    appended to one language only (the UI picks one side with `in_`).

    Attributes:
        id: Bahasa Indonesia.
        en: English.

    Raises:
        ValueError: one language is empty and the other is not.
    """

    id: str
    en: str

    def __post_init__(self) -> None:
        if bool(self.id) != bool(self.en):
            raise ValueError(
                f"text {self.id or self.en!r} has no "
                f"{'English' if self.id else 'Bahasa Indonesia'} side: give both languages"
            )

    def in_(self, lang: Lang) -> str:
        """The text in `lang` ("id" or "en")."""
        return self.id if lang == "id" else self.en

    def format(self, **values: object) -> Bilingual:
        """Both sides with their ``{placeholders}`` filled from `values`."""
        return Bilingual(self.id.format(**values), self.en.format(**values))

    def __str__(self) -> str:
        return f"{self.id} / {self.en}" if self.id != self.en else self.id
