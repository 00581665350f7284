"""The touchscreen's look: colours, type sizes and touch targets, in one place (no Kivy here).

Sizes are in sp/dp as the issue states them (body ≥ 28 sp at 800x480, queue number ≥ 120 sp,
touch targets ≥ 72 dp) and become pixels through one `scale` (the `[ui] scale` of the config:
pixels per dp on that panel). The UI never reads Kivy's global metrics, so the gallery can draw
both resolutions in one process.

Every text colour is paired with the background it is drawn on (`TEXT_PAIRS`); a test computes
the WCAG contrast of each pair from these values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RGB = tuple[int, int, int]
Tone = Literal["info", "ok", "warn", "stop"]
Orientation = Literal["landscape", "portrait"]


def hex_rgb(value: str) -> RGB:
    """'#RRGGBB' as an (r, g, b) tuple of 0-255 ints."""
    text = value.lstrip("#")
    return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))


def kivy_rgba(value: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    """'#RRGGBB' as Kivy's 0-1 RGBA."""
    r, g, b = hex_rgb(value)
    return (r / 255, g / 255, b / 255, alpha)


def relative_luminance(value: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in hex_rgb(value))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio (1-21) of two colours."""
    a, b = relative_luminance(foreground), relative_luminance(background)
    light, dark = max(a, b), min(a, b)
    return (light + 0.05) / (dark + 0.05)


@dataclass(frozen=True)
class Palette:
    """The colours. Meaning never rides on colour alone: every tone also has an icon and words."""

    background: str = "#F4F6F8"
    text: str = "#10151C"
    muted: str = "#3B4552"  # secondary lines, the data-freshness note
    primary: str = "#0B4F8A"  # main buttons (BPJAMSOSTEK blue, darkened for contrast)
    on_primary: str = "#FFFFFF"
    secondary: str = "#DDE3EA"  # other buttons
    on_secondary: str = "#10151C"
    ok: str = "#1E6B34"  # ticket issued
    on_ok: str = "#FFFFFF"
    warn: str = "#FFD54A"  # wait-outside banner, rest
    on_warn: str = "#10151C"
    stop: str = "#A4161A"  # refused, referred, out of service
    on_stop: str = "#FFFFFF"
    info: str = "#0B4F8A"
    on_info: str = "#FFFFFF"
    guide: str = "#FFD54A"  # the camera framing guide (drawn on the preview)

    def tone(self, tone: Tone) -> tuple[str, str]:
        """(fill, text) of a tone's badge."""
        return {
            "info": (self.info, self.on_info),
            "ok": (self.ok, self.on_ok),
            "warn": (self.warn, self.on_warn),
            "stop": (self.stop, self.on_stop),
        }[tone]


PALETTE = Palette()


def text_pairs(palette: Palette = PALETTE) -> dict[str, tuple[str, str]]:
    """Every (text colour, background colour) the UI draws, by where it is used."""
    pairs = {
        "body": (palette.text, palette.background),
        "muted": (palette.muted, palette.background),
        "primary button": (palette.on_primary, palette.primary),
        "secondary button": (palette.on_secondary, palette.secondary),
        "banner": (palette.on_warn, palette.warn),
    }
    for tone in ("info", "ok", "warn", "stop"):
        fill, ink = palette.tone(tone)
        pairs[f"{tone} badge"] = (ink, fill)
    return pairs


@dataclass(frozen=True)
class Sizes:
    """Type sizes (sp) and touch sizes (dp), before scaling."""

    body_sp: float = 28.0
    title_sp: float = 38.0
    small_sp: float = 22.0  # only the data-freshness note and the countdown hint
    number_sp: float = 120.0
    button_sp: float = 30.0
    key_sp: float = 34.0
    icon_sp: float = 56.0
    touch_dp: float = 72.0  # twice Material's 36 dp minimum... and then some: gloves, shaky hands
    gap_dp: float = 12.0
    margin_dp: float = 20.0


SIZES = Sizes()


@dataclass(frozen=True)
class Theme:
    """Colours and sizes in pixels for one panel.

    Attributes:
        width, height: the kiosk area in pixels.
        scale: pixels per dp/sp on this panel.
    """

    width: int
    height: int
    scale: float = 1.0
    palette: Palette = PALETTE
    sizes: Sizes = SIZES

    @property
    def orientation(self) -> Orientation:
        return "portrait" if self.height > self.width else "landscape"

    def px(self, value: float) -> float:
        """dp or sp to pixels on this panel."""
        return value * self.scale

    @property
    def body(self) -> float:
        return self.px(self.sizes.body_sp)

    @property
    def title(self) -> float:
        return self.px(self.sizes.title_sp)

    @property
    def small(self) -> float:
        return self.px(self.sizes.small_sp)

    @property
    def number(self) -> float:
        return self.px(self.sizes.number_sp)

    @property
    def button(self) -> float:
        return self.px(self.sizes.button_sp)

    @property
    def key(self) -> float:
        return self.px(self.sizes.key_sp)

    @property
    def icon(self) -> float:
        return self.px(self.sizes.icon_sp)

    @property
    def touch(self) -> float:
        return self.px(self.sizes.touch_dp)

    @property
    def gap(self) -> float:
        return self.px(self.sizes.gap_dp)

    @property
    def margin(self) -> float:
        return self.px(self.sizes.margin_dp)


LANDSCAPE_DP_HIGH = 480  # a landscape panel is drawn 480 dp high (the 7" panel: 1 px per dp)
PORTRAIT_DP_WIDE = 616  # a portrait panel 616 dp wide: 1.75 px per dp on a 1080x1920


def panel_scale(width: int, height: int) -> float:
    """Pixels per dp for a panel when the config does not say: text and touch targets grow with
    the panel (a 1080x1920 stands at a door for people at arm's length, like the 7" one)."""
    if height > width:
        return round(width / PORTRAIT_DP_WIDE, 2)
    return round(height / LANDSCAPE_DP_HIGH, 2)


# The two panels the kiosk ships with, at the scale each is drawn at (pixels per dp).
RESOLUTIONS: dict[str, Theme] = {
    "800x480": Theme(800, 480, panel_scale(800, 480)),
    "1080x1920": Theme(1080, 1920, panel_scale(1080, 1920)),
}
