"""The shared element vocabulary: fitting to the paper, between words, in ASCII."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from receipts import Cut, Line, QrCode, fit, lines_of, wrap

URL = "https://lapakasik.bpjsketenagakerjaan.go.id/lacak?ref=960-443-TY2"


def test_a_url_longer_than_the_paper_breaks_only_after_its_punctuation() -> None:
    assert wrap(URL, 32) == [
        "https://lapakasik.",
        "bpjsketenagakerjaan.go.id/lacak?",
        "ref=960-443-TY2",
    ]
    assert "".join(wrap(URL, 32)) == URL  # typed across the breaks, it is the URL


def test_words_are_never_split_and_a_bullet_hangs() -> None:
    lines = wrap("- Tetap pakai masker dan jaga jarak minimal satu meter.", 32)
    assert lines == ["- Tetap pakai masker dan jaga", "  jarak minimal satu meter."]


def test_fit_folds_to_ascii_and_keeps_sizes_within_the_paper() -> None:
    fitted = fit([Line("Café Denpasar °", size="double"), QrCode("x"), Cut()], 32)
    assert lines_of(fitted) == ["Cafe Denpasar"]
    assert fitted[1:] == [QrCode("x"), Cut()]
    tall = fit([Line("TANDA TERIMA TITIPAN", size="tall")], 32)
    assert lines_of(tall) == ["TANDA TERIMA TITIPAN"]  # tall is one column wide per letter


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=200))
def test_every_wrapped_line_fits_and_no_character_but_spaces_is_lost(text: str) -> None:
    lines = wrap(text, 32)
    assert all(len(line) <= 32 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
