"""The theme's promises: readable sizes, big touch targets, WCAG AA contrast for every pair."""

from __future__ import annotations

import pytest

from kiosk.ui.theme import RESOLUTIONS, contrast_ratio, text_pairs


@pytest.mark.parametrize("where", sorted(text_pairs()))
def test_every_text_and_background_pair_has_at_least_aa_contrast(where: str) -> None:
    foreground, background = text_pairs()[where]
    assert contrast_ratio(foreground, background) >= 4.5, where


def test_the_contrast_formula_matches_wcag_reference_values() -> None:
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)


def test_sizes_on_the_7_inch_panel_meet_the_bar() -> None:
    small = RESOLUTIONS["800x480"]
    assert (small.width, small.height, small.scale) == (800, 480, 1.0)
    assert small.body >= 28
    assert small.number >= 120
    assert small.touch >= 72


def test_the_portrait_panel_is_scaled_up_not_down() -> None:
    tall = RESOLUTIONS["1080x1920"]
    assert tall.orientation == "portrait"
    assert tall.body > RESOLUTIONS["800x480"].body
