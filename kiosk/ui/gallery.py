"""`kiosk ui gallery --out DIR`: every screen, both languages, both panels, as PNG files.

Files are named ``{resolution}-{lang}-{screen}.png``. Runs offscreen (SDL's offscreen video
driver, real rendering through Mesa): set ``SDL_VIDEODRIVER=offscreen`` before Kivy loads, as
`kiosk.ui.kivyenv.prepare` does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kiosk.bilingual import LANGS, Lang
from kiosk.ports import Frame
from kiosk.ui.samples import samples
from kiosk.ui.theme import RESOLUTIONS, Theme
from kiosk.ui.view import view_of

logger = logging.getLogger(__name__)
SETTLE_FRAMES = 5  # a screenshot in the first frames is black or half laid out


@dataclass(frozen=True)
class Overflow:
    """A text that does not fit its widget (or the panel)."""

    screen: str
    text: str
    texture: tuple[float, float]
    box: tuple[float, float]

    def __str__(self) -> str:
        return (
            f"{self.screen}: {self.text!r} needs {self.texture[0]:.0f}x{self.texture[1]:.0f} px,"
            f" has {self.box[0]:.0f}x{self.box[1]:.0f}"
        )


def overflows(root: object, name: str, theme: Theme) -> list[Overflow]:
    """Labels whose text (Kivy's `texture_size`) is larger than the label, or outside the panel."""
    from kivy.uix.label import Label

    found = []
    boxes: list[tuple[str, float, float, float, float]] = []
    for widget in root.walk(restrict=True):  # type: ignore[attr-defined]
        if not isinstance(widget, Label) or not widget.text:
            continue
        tw, th = widget.texture_size
        text = str(getattr(widget, "plain", widget.text))
        too_big = tw > widget.width + 1 or th > widget.height + 1
        x, y = widget.to_window(widget.x, widget.y)
        outside = x < -1 or y < -1 or x + widget.width > theme.width + 1
        outside = outside or y + widget.height > theme.height + 1
        if too_big or outside:
            found.append(Overflow(name, text, (tw, th), (widget.width, widget.height)))
        for other, ox, oy, ow, oh in boxes:  # two texts drawn over each other
            if (
                x < ox + ow - 1
                and ox < x + widget.width - 1
                and y < oy + oh - 1
                and oy < y + widget.height - 1
            ):
                found.append(
                    Overflow(
                        name, f"{text} overlaps {other}", (tw, th), (widget.width, widget.height)
                    )
                )
        boxes.append((text, x, y, widget.width, widget.height))
    return found


@dataclass(frozen=True)
class SmallTarget:
    """A touch target smaller than the theme's (72 dp) in width or height."""

    screen: str
    label: str
    size: tuple[float, float]
    least: float

    def __str__(self) -> str:
        return (
            f"{self.screen}: touch target {self.label!r} is {self.size[0]:.0f}x{self.size[1]:.0f}"
            f" px, under {self.least:.0f} px"
        )


def small_targets(root: object, name: str, theme: Theme) -> list[SmallTarget]:
    """Touch targets (buttons and keys) narrower or lower than one touch target: an elderly
    participant's finger, gloved or shaky, needs the whole 72 dp both ways."""
    from kivy.uix.button import Button

    least = theme.touch
    found = []
    for widget in root.walk(restrict=True):  # type: ignore[attr-defined]
        if not isinstance(widget, Button):
            continue
        if widget.width < least - 0.5 or widget.height < least - 0.5:
            label = str(getattr(widget, "plain", widget.text))
            found.append(SmallTarget(name, label, (widget.width, widget.height), least))
    return found


def sample_frame() -> Frame:
    """What the camera sees in the gallery: a booking QR held up in the middle."""
    from kiosk.sim.frames import place, qr_image

    code = qr_image("LAPAK-ASIK-CONTOH", module_px=6)
    h, w = code.shape
    return place(code, at=((640 - w) // 2, (480 - h) // 2))


def render(
    out: Path, *, names: list[str] | None = None
) -> Iterator[tuple[Path, list[Overflow], list[SmallTarget]]]:
    """Draw the screens into `out`; yields each file with the texts that overflow in it and
    the touch targets that are too small."""
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from kiosk.ui.widgets import KioskView

    out.mkdir(parents=True, exist_ok=True)
    EventLoop.ensure_window()
    chosen = samples()
    if names:
        chosen = {name: chosen[name] for name in names}
    for resolution, theme in RESOLUTIONS.items():
        Window.size = (theme.width, theme.height)
        lang: Lang
        for lang in LANGS:
            for name, (screen, local) in chosen.items():
                view = KioskView(theme, on_action=lambda _code: None)
                Window.add_widget(view)
                view.render(view_of(screen, lang, local))
                if view.preview is not None:
                    view.preview.show_frame(sample_frame())
                for _ in range(SETTLE_FRAMES):
                    EventLoop.idle()
                path = out / f"{resolution}-{lang}-{name}.png"
                view.export_to_png(str(path))
                yield path, overflows(view, name, theme), small_targets(view, name, theme)
                Window.remove_widget(view)
