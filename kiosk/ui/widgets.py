"""Kivy widgets that lay a `View` out at one panel size (`Theme`); no decisions are made here."""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import kivy
from kivy.graphics import Color, Ellipse, Line, Rectangle, RoundedRectangle
from kivy.graphics.texture import Texture
from kivy.uix.anchorlayout import AnchorLayout
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget
from kivy.utils import escape_markup

from kiosk.ports import Frame
from kiosk.ui.picture import PreviewImage, preview_image
from kiosk.ui.theme import Theme, kivy_rgba
from kiosk.ui.view import Action, View

SYMBOL_FONT = os.path.join(os.path.dirname(kivy.__file__), "data", "fonts", "DejaVuSans.ttf")
TEXT_FONT = "Roboto"
OnAction = Callable[[str], None]
BUILT_KEPT = 96  # screen shapes kept built (about 80 exist: both languages, with/without countdown)


def _markup(text: str) -> str:
    """Escape `text`; symbols Roboto lacks are drawn in DejaVu Sans (bundled with Kivy)."""
    out = []
    for char in text:
        if ord(char) >= 0x2000 and char not in "–—‘’“”…":
            out.append(f"[font={SYMBOL_FONT}]{escape_markup(char)}[/font]")
        else:
            out.append(escape_markup(char))
    return "".join(out)


class TextLine(Label):
    """A wrapping label as tall as its text (so nothing is clipped; a test checks it).

    `fit_width`: one line, as wide as its text plus `fit_width` (it never wraps).
    """

    def __init__(self, text: str, size: float, color: str, *, bold: bool = False,
                 halign: str = "left", fit_width: float | None = None,
                 **kwargs: Any) -> None:  # fmt: skip
        if fit_width is not None:
            kwargs["size_hint_x"] = None
        super().__init__(
            text=_markup(text),
            markup=True,
            font_size=size,
            font_name=TEXT_FONT,
            color=kivy_rgba(color),
            bold=bold,
            halign=halign,
            valign="middle",
            size_hint_y=None,
            **kwargs,
        )
        self.plain = text
        self._extra = fit_width
        if fit_width is None:
            self.bind(width=self._wrap)
        self.bind(texture_size=self._fit)

    def set_text(self, text: str) -> None:
        """Show `text` (the texture is redrawn only when it changed)."""
        if text != self.plain:
            self.plain = text
            self.text = _markup(text)

    def _wrap(self, *_: Any) -> None:
        self.text_size = (self.width, None)

    def _fit(self, *_: Any) -> None:
        self.height = self.texture_size[1]
        if self._extra is not None:
            self.width = self.texture_size[0] + self._extra


class Badge(Label):
    """The tone's icon: a glyph in a filled circle (the words beside it carry the meaning)."""

    def __init__(self, glyph: str, fill: str, ink: str, size: float, **kwargs: Any) -> None:
        super().__init__(
            text=glyph,
            font_name=SYMBOL_FONT,
            font_size=size * (0.55 if len(glyph) == 1 else 0.36),
            color=kivy_rgba(ink),
            bold=len(glyph) > 1,
            size_hint=(None, None),
            size=(size, size),
            **kwargs,
        )
        with self.canvas.before:
            Color(*kivy_rgba(fill))
            self._disc = Ellipse(pos=self.pos, size=self.size)
        self.bind(pos=self._redraw, size=self._redraw)

    def _redraw(self, *_: Any) -> None:
        self._disc.pos = self.pos
        self._disc.size = self.size


class RoomBadge(AnchorLayout):
    """A `Badge` in the middle of the room its layout leaves it: `largest` when there is room,
    smaller when there is less, gone below `smallest` (the words need the room more)."""

    def __init__(self, glyph: str, fill: str, ink: str, *, largest: float, smallest: float,
                 gap: float, **kwargs: Any) -> None:  # fmt: skip
        super().__init__(anchor_x="center", anchor_y="center", **kwargs)
        self.glyph = glyph
        self._largest, self._smallest, self._gap = largest, smallest, gap
        self.badge = Badge(glyph, fill, ink, largest)
        self.add_widget(self.badge)
        self.bind(height=self._fit)

    def _fit(self, *_: Any) -> None:
        side = min(self._largest, self.height - 2 * self._gap)
        shown = side >= self._smallest
        self.badge.text = self.glyph if shown else ""
        self.badge.size = (side, side) if shown else (0, 0)
        if shown:
            self.badge.font_size = side * (0.55 if len(self.glyph) == 1 else 0.36)


class TouchButton(Button):
    """A flat button at least one touch target (or `min_height`) tall, label (and hint)
    wrapped inside."""

    def __init__(self, action: Action, theme: Theme, on_action: OnAction, *,
                 font_size: float | None = None, min_height: float | None = None,
                 pad_x: float | None = None, **kwargs: Any) -> None:  # fmt: skip
        palette = theme.palette
        fill, ink = {
            "primary": (palette.primary, palette.on_primary),
            "secondary": (palette.secondary, palette.on_secondary),
            "stop": (palette.stop, palette.on_stop),
        }[action.style]
        size = font_size or theme.button
        text = f"[b]{_markup(action.label)}[/b]"
        if action.icon:
            text = f"{_markup(action.icon)}  {text}"
        if action.hint:
            text += f"\n[size={int(theme.body)}]{_markup(action.hint)}[/size]"
        kwargs.setdefault("size_hint_y", None)
        super().__init__(
            text=text,
            markup=True,
            font_name=TEXT_FONT,
            font_size=size,
            color=kivy_rgba(ink),
            background_normal="",
            background_down="",
            background_color=(0, 0, 0, 0),
            halign="center",
            valign="middle",
            **kwargs,
        )
        self.code = action.code
        self.plain = action.label
        self._min = min_height or theme.touch
        self._pad = theme.gap
        self._pad_x = theme.gap if pad_x is None else pad_x
        with self.canvas.before:
            Color(*kivy_rgba(fill))
            self._face = RoundedRectangle(pos=self.pos, size=self.size, radius=[theme.px(10)])
        self.bind(pos=self._redraw, size=self._redraw, width=self._wrap, texture_size=self._fit)
        self.bind(on_release=lambda *_: on_action(self.code))
        self.natural = self._min  # the height its label needs (a row may make it taller)
        self.height = self._min

    def _redraw(self, *_: Any) -> None:
        self._face.pos = self.pos
        self._face.size = self.size

    def _wrap(self, *_: Any) -> None:
        self.text_size = (max(self.width - 2 * self._pad_x, 1), None)

    def _fit(self, *_: Any) -> None:
        self.natural = max(self._min, self.texture_size[1] + 2 * self._pad)
        if self.size_hint_y is None:
            self.height = self.natural


class Preview(Widget):
    """The live camera picture and a framing guide (the square a QR code should fill).

    Pictures arrive ready to upload (`PreviewImage`, made small off Kivy's thread by
    `kiosk.ui.bridge.PreviewFeed`): the UI thread only blits. Two textures take turns (made
    once, reused for every picture): a picture is uploaded into the one the frame being drawn
    does not use, so the upload never waits for the renderer to finish that frame.
    """

    def __init__(self, theme: Theme, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.textures: list[Texture] = []
        self._turn = 0
        self._shape: tuple[int, int, str] | None = None
        self.blits = 0
        with self.canvas:
            Color(0.1, 0.1, 0.1, 1)
            self._back = Rectangle(pos=self.pos, size=self.size)
            Color(1, 1, 1, 1)
            self._picture = Rectangle(pos=self.pos, size=(0, 0))
            Color(*kivy_rgba(theme.palette.guide))
            self._guide = Line(rectangle=(0, 0, 0, 0), width=max(2.0, theme.px(3)))
        self.bind(pos=self._layout, size=self._layout)

    @property
    def texture(self) -> Texture | None:
        """The texture on screen now."""
        return self._picture.texture if self.textures else None

    def show_frame(self, frame: Frame) -> None:
        """Blit a grayscale (H, W) or BGR (H, W, 3) camera frame (full size: gallery, tests)."""
        self.show_image(preview_image(frame))

    def show_image(self, image: PreviewImage) -> None:
        """Blit a prepared picture (new textures only if the picture's size changed)."""
        if self._shape != (image.width, image.height, image.fmt):
            self.textures = []
            for _ in range(2):
                texture = Texture.create(size=(image.width, image.height), colorfmt=image.fmt)
                texture.flip_vertical()
                self.textures.append(texture)
            self._shape = (image.width, image.height, image.fmt)
            self._layout()
        self._turn = (self._turn + 1) % len(self.textures)
        texture = self.textures[self._turn]
        texture.blit_buffer(image.data, colorfmt=image.fmt, bufferfmt="ubyte")
        self._picture.texture = texture
        self.blits += 1
        self.canvas.ask_update()

    def _layout(self, *_: Any) -> None:
        self._back.pos, self._back.size = self.pos, self.size
        if self._shape is not None:
            w, h = self._shape[0], self._shape[1]
            k = min(self.width / w, self.height / h)
            pw, ph = w * k, h * k
            px, py = self.x + (self.width - pw) / 2, self.y + (self.height - ph) / 2
            self._picture.pos, self._picture.size = (px, py), (pw, ph)
        side = min(self.width, self.height) * 0.7
        gx = self.x + (self.width - side) / 2
        gy = self.y + (self.height - side) / 2
        self._guide.rectangle = (gx, gy, side, side)


def _fill(widget: Widget, color: str) -> None:
    with widget.canvas.before:
        Color(*kivy_rgba(color))
        rect = Rectangle(pos=widget.pos, size=widget.size)

    def redraw(*_: Any) -> None:
        rect.pos, rect.size = widget.pos, widget.size

    widget.bind(pos=redraw, size=redraw)


class Column(BoxLayout):
    """A vertical box as tall as its children (for content stacked in a larger area)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("orientation", "vertical")
        kwargs.setdefault("size_hint_y", None)
        super().__init__(**kwargs)
        self.bind(minimum_height=self.setter("height"))


Slot = tuple[Callable[[View], str], TextLine]


def _line_height(text: str, size: float) -> float:
    """How tall one line of bold `text` is drawn at `size` (as a `TextLine` draws it)."""
    probe = TextLine(text, size, "#000000", bold=True)
    probe.texture_update()
    return float(probe.texture_size[1])


def _widest_word(button: TouchButton) -> float:
    """The width of the longest word of `button`'s label, in its font (pixels)."""
    from kivy.core.text import Label as CoreLabel

    measure = CoreLabel(font_size=button.font_size, font_name=TEXT_FONT, bold=True)
    return max(float(measure.get_extents(word)[0]) for word in button.plain.split())


def _split_number(number: str) -> tuple[str, str]:
    """'JHT A1-007' → ('JHT', 'A1-007'): the service over the number on a tall panel."""
    service, _, rest = number.partition(" ")
    return (service, rest) if rest else ("", number)


@dataclass
class Built:
    """One screen's widgets, kept to be shown again with other texts.

    Attributes:
        widgets: the screen's top-level widgets, top to bottom.
        slots: each text on it and how to read that text from a `View` of the same shape.
        holder: where the camera picture goes (None: no picture on this screen).
    """

    widgets: list[Widget]
    slots: list[Slot]
    holder: Widget | None


def shape(view: View) -> View:
    """`view` with every text reduced to whether it is there: views of one shape are drawn by
    the same widgets, only their texts differ (a countdown ticking, a new ticket number)."""

    def there(text: str) -> str:
        return "x" if text else ""

    return replace(
        view,
        title=there(view.title),
        lines=("x",) * len(view.lines),
        next_step=there(view.next_step),
        number=there(view.number),
        banner=there(view.banner),
        footnote=there(view.footnote),
        countdown=there(view.countdown),
        typed=there(view.typed),
        progress=there(view.progress),
        track=there(view.track),
        stay=there(view.stay),
        staff_note=there(view.staff_note),
    )


def _field(name: str) -> Callable[[View], str]:
    return lambda view: str(getattr(view, name))


def _line(index: int) -> Callable[[View], str]:
    return lambda view: view.lines[index]


class KioskView(BoxLayout):
    """The whole kiosk screen for one `View`; `render(view)` shows it.

    A screen is built once per shape (`shape`) and kept: showing it again only changes the texts
    that differ, so a check-in builds no widgets and the countdown redraws one label.

    Args:
        theme: panel size and look.
        on_action: called with an `Action.code` (or ``key:X``) when a touch target is released.
    """

    def __init__(self, theme: Theme, on_action: OnAction, **kwargs: Any) -> None:
        super().__init__(
            orientation="vertical",
            size_hint=(None, None),
            size=(theme.width, theme.height),
            padding=theme.margin,
            spacing=theme.gap,
            **kwargs,
        )
        self.theme = theme
        self.on_action = on_action
        self.view: View | None = None
        self.preview: Preview | None = None
        self.builds = 0  # screens built so far (the rest were shown again)
        self._built: OrderedDict[View, Built] = OrderedDict()
        self._slots: list[Slot] = []
        self._holder: Widget | None = None
        _fill(self, theme.palette.background)

    def preview_fit(self) -> tuple[int, int]:
        """The largest box the camera picture is drawn in on this panel (pixels)."""
        theme = self.theme
        inner_w = theme.width - 2 * theme.margin
        if theme.orientation == "portrait":
            return (int(inner_w), int(inner_w))
        return (int((inner_w - theme.gap * 1.5) * 0.55), int(theme.height - 2 * theme.margin))

    def on_touch_down(self, touch: Any) -> bool:
        """A touch beside the touch targets counts as being there too (``stay``: the inactivity
        countdown says "touch the screen to continue"); a touch target takes its own as usual."""
        if super().on_touch_down(touch):
            return True
        if not self.collide_point(*touch.pos):
            return False
        self.on_action("stay")
        return True

    # -- building -------------------------------------------------------------------------------

    def render(self, view: View) -> None:
        """Show `view`: its shape's widgets (built the first time), with its texts."""
        if view == self.view:
            return
        self.view = view
        key = shape(view)
        built = self._built.get(key)
        self.clear_widgets()
        if built is None:
            built = self._build(view)
            self._built[key] = built
            while len(self._built) > BUILT_KEPT:
                self._built.popitem(last=False)
        else:
            self._built.move_to_end(key)
            for widget in built.widgets:
                self.add_widget(widget)
            for text_of, line in built.slots:
                line.set_text(text_of(view))
        if built.holder is not None:
            preview = self._preview_widget()
            if preview.parent is not built.holder:
                if preview.parent is not None:
                    preview.parent.remove_widget(preview)
                built.holder.add_widget(preview)

    def _build(self, view: View) -> Built:
        theme = self.theme
        portrait = theme.orientation == "portrait"
        self._slots, self._holder = [], None
        self.builds += 1
        if view.banner:
            self.add_widget(self._banner(view))
        builder = {
            "welcome": self._welcome,
            "scan": self._scan,
            "message": self._message,
            "choices": self._choices,
            "keypad": self._keypad,
            "ticket": self._ticket,
        }[view.layout]
        builder(view, portrait)
        if view.staff_note:
            self.add_widget(self._staff_note(view))
        return Built(list(reversed(self.children)), self._slots, self._holder)

    def _staff_note(self, view: View) -> Widget:
        """A small strip at the bottom for staff (not a participant's instruction)."""
        theme = self.theme
        box = Column(padding=(theme.gap, theme.gap * 0.25))
        _fill(box, theme.palette.warn)
        box.add_widget(
            self._text(view, lambda v: f"⚒ {v.staff_note}", theme.small, theme.palette.on_warn,
                       bold=True)
        )  # fmt: skip
        return box

    def _text(self, view: View, text_of: Callable[[View], str], size: float, color: str,
              **kwargs: Any) -> TextLine:  # fmt: skip
        """A text read from the view (and from later views of the same shape)."""
        line = TextLine(text_of(view), size, color, **kwargs)
        self._slots.append((text_of, line))
        return line

    def _button(self, action: Action, **kwargs: Any) -> TouchButton:
        """A button as wide as its label (at least two touch targets)."""
        theme = self.theme
        button = TouchButton(action, theme, self.on_action, size_hint=(None, None), **kwargs)
        button.texture_update()
        button.width = max(theme.touch * 2, button.texture_size[0] + 3 * theme.gap)
        return button

    def _row(self, children: list[Widget], *, min_height: float, even: bool = False) -> BoxLayout:
        """A horizontal row as tall as its tallest child; with `even`, its buttons all as tall
        as the tallest label needs (a button whose label wraps does not stand out of the row)."""
        row = BoxLayout(spacing=self.theme.gap, size_hint_y=None, height=min_height)
        for child in children:
            row.add_widget(child)

        def grow(*_: Any) -> None:
            heights = [c.natural if isinstance(c, TouchButton) else c.height for c in row.children]
            row.height = max([min_height, *heights])
            if even:
                for child in row.children:
                    if isinstance(child, TouchButton):
                        child.height = row.height

        for child in children:
            child.bind(height=grow)
        grow()
        return row

    def _header(self, view: View, *, badge: bool = True, extra: list[Widget] | None = None,
                actions: tuple[Action, ...] = (), countdown: bool = True) -> Widget:  # fmt: skip
        """Icon, title (and the countdown under it, unless `countdown` is False), then header
        buttons and the language."""
        theme = self.theme
        fill, ink = theme.palette.tone(view.tone)
        children: list[Widget] = []
        if badge:
            children.append(Badge(view.icon, fill, ink, theme.touch))
        titles = Column(spacing=theme.px(2), pos_hint={"center_y": 0.5})  # beside the badge
        titles.add_widget(
            self._text(view, _field("title"), theme.title, theme.palette.text, bold=True)
        )
        if view.countdown and countdown:
            titles.add_widget(self._countdown(view))
        children.append(titles)
        children.extend(extra or [])
        children.extend(self._button(action) for action in actions)
        if view.lang_action is not None:
            children.append(self._button(view.lang_action))
        return self._row(children, min_height=theme.touch)

    def _countdown(self, view: View) -> TextLine:
        """The countdown back to the welcome screen, and on a keypad how to stay."""
        return self._text(
            view, lambda v: f"◷ {v.countdown}. {v.stay}" if v.stay else f"◷ {v.countdown}",
            self.theme.small, self.theme.palette.text, bold=True,
        )  # fmt: skip

    def _header_and_countdown(self, view: View, typed: TextLine) -> Widget:
        """A 7" keypad's header, then the countdown and how to stay on a line of the whole
        width (beside the title the two took a second line there, and the keys were left under
        a touch target's height without them). The line's room is kept while there is no
        countdown: the keys do not move under a finger when it appears."""
        theme = self.theme
        box = Column(spacing=theme.px(2))
        box.add_widget(self._header(view, badge=False, extra=[typed], countdown=False))
        if view.countdown:
            box.add_widget(self._countdown(view))
        else:
            box.add_widget(Widget(size_hint_y=None, height=_line_height("◷ 0", theme.small)))
        return box

    def _banner(self, view: View) -> Widget:
        theme = self.theme
        box = Column(padding=(theme.gap, theme.gap * 0.5))
        _fill(box, theme.palette.warn)
        box.add_widget(
            self._text(
                view, lambda v: f"⚠ {v.banner}", theme.body, theme.palette.on_warn, bold=True
            )
        )
        return box

    def _body(self, view: View, indices: range | None = None, *,
              color: str | None = None) -> list[Widget]:  # fmt: skip
        theme = self.theme
        indices = range(len(view.lines)) if indices is None else indices
        color = color or theme.palette.text
        return [self._text(view, _line(i), theme.body, color) for i in indices]

    def _next_step(self, view: View, *, bold: bool = False) -> TextLine:
        return self._text(view, _field("next_step"), self.theme.body, self.theme.palette.text,
                          bold=bold)  # fmt: skip

    def _spacer(self) -> Widget:
        return Widget()

    def _bottom(self, lead: Widget | None, actions: tuple[Action, ...]) -> Widget:
        """The bottom row: a text or status on the left, the actions on the right."""
        children: list[Widget] = [lead if lead is not None else Widget()]
        children.extend(self._button(action) for action in actions)
        return self._row(children, min_height=self.theme.touch)

    def _welcome(self, view: View, portrait: bool) -> None:
        theme = self.theme
        if not view.preview:
            self._without_camera(view, portrait)
            return
        self.add_widget(self._header(view))
        actions = list(view.actions)
        if (view.banner or view.staff_note) and not portrait:  # a banner takes the hints' room
            actions = [replace(a, hint="") for a in actions]
        buttons = [TouchButton(a, theme, self.on_action) for a in actions]
        text = Column(spacing=theme.gap)
        for widget in self._body(view):
            text.add_widget(widget)
        if portrait:
            tall = theme.width * (0.6 if view.banner else 0.8)
            self.add_widget(self._preview(size_hint_y=None, height=tall))
            if view.lines:
                self.add_widget(text)
            for button in buttons:
                self.add_widget(button)
            self.add_widget(self._next_step(view))
            self.add_widget(self._spacer())
        else:
            row = BoxLayout(spacing=theme.gap * 1.5)
            # shares of the row (a hint is a weight: 0.4 beside 1 left the picture 28 %)
            row.add_widget(self._preview(size_hint_x=0.4))
            right = BoxLayout(orientation="vertical", spacing=theme.gap, size_hint_x=0.6)
            right.add_widget(text)
            for button in buttons:
                right.add_widget(button)
            right.add_widget(self._spacer())
            row.add_widget(right)
            self.add_widget(row)
            self.add_widget(self._next_step(view))
        if view.footnote:
            self.add_widget(self._text(view, _field("footnote"), theme.small, theme.palette.muted))

    def _without_camera(self, view: View, portrait: bool) -> None:
        """The welcome screen when the camera is down: the ways in that still work fill the
        room the picture left (large, the typed code first), the staff's button at the bottom
        beside the data note, as on the out-of-service screen."""
        theme = self.theme
        staff = tuple(a for a in view.actions if a.code == "staff")
        ways = [a for a in view.actions if a not in staff]
        self.add_widget(self._header(view))
        body = self._body(view)
        step = self._next_step(view)
        if portrait:  # the tall panel: the tone's icon large, then the ways in, centred
            self.add_widget(self._spacer())
            self.add_widget(self._centred(Badge(view.icon, *theme.palette.tone(view.tone),
                                                theme.touch * 2)))  # fmt: skip
            for widget in body:
                widget.halign = "center"
                self.add_widget(widget)
            for action in ways:
                self.add_widget(
                    TouchButton(action, theme, self.on_action, min_height=theme.touch * 2)
                )
            step.halign = "center"
            self.add_widget(step)
        else:
            for widget in body:
                self.add_widget(widget)
            tall = theme.touch * 1.4
            buttons: list[Widget] = [
                TouchButton(action, theme, self.on_action, min_height=tall) for action in ways
            ]
            self.add_widget(self._row(buttons, min_height=tall, even=True))
            self.add_widget(step)
        self.add_widget(self._spacer())
        note = None
        if view.footnote:
            note = self._text(view, _field("footnote"), theme.small, theme.palette.muted,
                              pos_hint={"center_y": 0.5})  # fmt: skip
        self.add_widget(self._bottom(note, staff))

    def _scan(self, view: View, portrait: bool) -> None:
        theme = self.theme
        self.add_widget(self._header(view))
        if portrait:  # the picture takes the room the words leave
            self.add_widget(self._preview())
            for widget in self._body(view):
                self.add_widget(widget)
        else:
            row = BoxLayout(spacing=theme.gap * 1.5)
            # the picture is what a participant aims with here: 55 % of the row, as
            # `preview_fit` says (0.55 beside 1 left it 35 %, the yellow frame 180 px)
            row.add_widget(self._preview(size_hint_x=0.55))
            text = BoxLayout(orientation="vertical", size_hint_x=0.45)
            for widget in self._body(view):
                text.add_widget(widget)
            text.add_widget(self._spacer())
            row.add_widget(text)
            self.add_widget(row)

    def _message(self, view: View, portrait: bool) -> None:
        theme = self.theme
        self.add_widget(self._header(view))
        if portrait:  # the tall panel: the tone's icon large, the content in the middle
            self.add_widget(self._spacer())
            self.add_widget(self._centred(Badge(view.icon, *theme.palette.tone(view.tone),
                                                theme.touch * 2)))  # fmt: skip
        if view.number:
            self.add_widget(
                self._text(view, _field("number"), theme.number * 0.8, theme.palette.text,
                           bold=True, halign="center")
            )  # fmt: skip
        for widget in self._body(view):
            if portrait:
                widget.halign = "center"
            self.add_widget(widget)
        if view.progress:
            self.add_widget(
                self._text(view, _field("progress"), theme.title, theme.palette.primary,
                           halign="center")
            )  # fmt: skip
        nxt = self._next_step(view, bold=True) if view.next_step else None
        if portrait and nxt is not None:
            nxt.halign = "center"
        if portrait or not view.actions:
            if nxt is not None:
                self.add_widget(nxt)
            self._middle(view, portrait)
            if view.actions:
                self.add_widget(self._bottom(None, view.actions))
        else:
            self._middle(view, portrait)
            self.add_widget(self._bottom(nxt, view.actions))

    def _middle(self, view: View, portrait: bool) -> None:
        """The room left on a message screen. The 7" panel shows the tone's icon in it, as large
        as the room allows, as the tall panel does above the words: an empty middle parts the
        reason from what to do next."""
        if portrait or view.number:
            self.add_widget(self._spacer())
            return
        theme = self.theme
        fill, ink = theme.palette.tone(view.tone)
        self.add_widget(RoomBadge(view.icon, fill, ink, largest=theme.touch * 1.5,
                                  smallest=theme.touch, gap=theme.gap))  # fmt: skip

    def _centred(self, widget: Widget) -> Widget:
        """`widget` (of a fixed size) in the middle of a full-width row."""
        row = AnchorLayout(anchor_x="center", size_hint_y=None, height=widget.height)
        row.add_widget(widget)
        return row

    def _choices(self, view: View, portrait: bool) -> None:
        theme = self.theme
        choices = [a for a in view.actions if a.code.startswith("service:")]
        rest = tuple(a for a in view.actions if not a.code.startswith("service:"))
        self.add_widget(self._header(view, actions=() if portrait else rest))
        grid = GridLayout(cols=1 if portrait else 2, spacing=theme.gap)
        for action in choices:
            grid.add_widget(TouchButton(action, theme, self.on_action, size_hint_y=1))
        self.add_widget(grid)
        if portrait and rest:  # the way out under the choices, the title at full width
            self.add_widget(self._bottom(None, rest))

    def _keypad(self, view: View, portrait: bool) -> None:
        theme = self.theme
        pin = view.name == "staff_pin"
        typed = self._text(
            view,
            _field("typed"),
            theme.title * (1.4 if portrait else 1.0),  # the tall panel: the code read back large
            theme.palette.text,
            bold=True,
            halign="center" if portrait else "right",
            fit_width=None if portrait else theme.gap,
        )
        typed.font_name = "RobotoMono-Regular"
        if portrait:
            self.add_widget(self._header(view))
            self.add_widget(typed)
        else:
            self.add_widget(self._header_and_countdown(view, typed))
        if portrait or pin:
            for widget in self._body(view):
                self.add_widget(widget)
        if not (portrait or pin):
            self._keys_beside_actions(view)
            return
        keys: list[str | None] = list(view.keys)
        if pin:  # a phone's PIN pad on the tall panel: 1-9, then 0 in the middle
            cols = 3 if portrait else 5
            if portrait and keys[-1:] == ["0"]:
                keys.insert(-1, None)
        else:
            cols = 6
        # The keys take the room the words leave (on the tall panel too: no hole under them).
        grid = GridLayout(cols=cols, spacing=theme.px(6))
        for key in keys:
            if key is None:
                grid.add_widget(Widget())
                continue
            grid.add_widget(
                TouchButton(
                    Action(f"key:{key}", key, style="secondary"),
                    theme,
                    self.on_action,
                    font_size=theme.key * (1.4 if portrait else 1.0),
                    size_hint_y=1,
                )
            )
        self.add_widget(grid)
        row = [TouchButton(a, theme, self.on_action, size_hint_y=None) for a in view.actions]
        two_rows = portrait and len(row) > 3
        for button in [] if two_rows else row:  # shared out by the labels: ⌫ narrow, words whole
            button.texture_update()
            button.size_hint_x = max(theme.touch * 2, button.texture_size[0] + 3 * theme.gap)
        if two_rows:  # two rows: each word on one line at the tall panel's size
            actions = GridLayout(cols=2, spacing=theme.gap, size_hint_y=None)
            actions.bind(minimum_height=actions.setter("height"))
            for button in row:
                actions.add_widget(button)
            self.add_widget(actions)
        else:
            self.add_widget(self._row(row, min_height=theme.touch, even=True))

    def _keys_beside_actions(self, view: View) -> None:
        """The booking-code keypad on the 7" panel: the 32 keys in 8 columns of 4 rows, the
        actions in a column on their right, one beside each row of keys (as on a bank's ATM:
        BATAL at the top, PERIKSA at the bottom). Under a row of actions the keys were 62 px
        high, under a touch target; beside them each key is a touch target or more both ways.

        The column is as wide as its longest word (a two-word label takes two lines), so the
        keys keep the rest of the width."""
        theme = self.theme
        spacing = theme.px(4)
        pad = theme.gap / 2
        buttons = [
            TouchButton(action, theme, self.on_action, size_hint_y=1, pad_x=pad)
            for action in view.actions
        ]
        widest = max(_widest_word(button) for button in buttons)
        column = BoxLayout(orientation="vertical", spacing=spacing, size_hint_x=None,
                           width=widest + 2 * pad + theme.px(2))  # fmt: skip
        for button in buttons:
            column.add_widget(button)
        grid = GridLayout(cols=8, spacing=spacing)
        for key in view.keys:
            grid.add_widget(
                TouchButton(Action(f"key:{key}", key, style="secondary"), theme, self.on_action,
                            font_size=theme.key, size_hint_y=1)
            )  # fmt: skip
        row = BoxLayout(spacing=theme.gap)
        row.add_widget(grid)
        row.add_widget(column)
        self.add_widget(row)

    def _ticket(self, view: View, portrait: bool) -> None:
        theme = self.theme
        self.add_widget(self._header(view))
        if portrait:  # the service above, the number on a line of its own, as large as fits
            self.add_widget(self._spacer())
            self.add_widget(
                self._text(view, lambda v: _split_number(v.number)[0], theme.title * 1.4,
                           theme.palette.text, bold=True, halign="center")
            )  # fmt: skip
            self.add_widget(
                self._text(view, lambda v: _split_number(v.number)[1], theme.number * 1.35,
                           theme.palette.text, bold=True, halign="center")
            )  # fmt: skip
        else:
            self.add_widget(
                self._text(view, _field("number"), theme.number, theme.palette.text, bold=True,
                           halign="center")
            )  # fmt: skip
        details = range(len(view.lines) - 1)
        if portrait:
            for widget in self._body(view, details):
                widget.halign = "center"
                self.add_widget(widget)
        elif details:
            self.add_widget(
                self._text(view, lambda v: "  ·  ".join(v.lines[:-1]), theme.body,
                           theme.palette.text)
            )  # fmt: skip
        track = None
        if view.track:  # on screen only: written down with the number
            track = self._text(view, _field("track"), theme.body, theme.palette.text, bold=True,
                               halign="center" if portrait else "left")  # fmt: skip
        status = None
        if view.lines:
            fill, ink = theme.palette.tone(view.tone)
            status = Column(padding=(theme.gap, theme.gap * 0.4))
            _fill(status, fill)
            status.add_widget(
                self._text(view, lambda v: f"{v.icon} {v.lines[-1]}", theme.body, ink, bold=True)
            )
        if portrait:
            for widget in (track, status):
                if widget is not None:
                    self.add_widget(widget)
            self.add_widget(self._spacer())
            if view.actions:
                self.add_widget(self._bottom(None, view.actions))
        else:
            self.add_widget(self._spacer())
            lead: Widget | None = status
            if track is not None:  # beside the button: the row is a touch target high anyway
                lead = Column(spacing=theme.px(4))
                for widget in (track, status):
                    if widget is not None:
                        lead.add_widget(widget)
            self.add_widget(self._bottom(lead, view.actions))

    def _preview(self, **kwargs: Any) -> Widget:
        """Where the camera picture goes on this screen (the one `Preview` is moved in)."""
        holder = BoxLayout(**kwargs)
        self._holder = holder
        return holder

    def _preview_widget(self) -> Preview:
        if self.preview is None:
            self.preview = Preview(self.theme)
        return self.preview

    # -- inspection (tests, gallery) ------------------------------------------------------------

    def labels(self) -> Iterator[Label]:
        """Every label and button on screen."""
        for widget in self.walk(restrict=True):
            if isinstance(widget, Label):
                yield widget

    def texts(self) -> list[str]:
        """The plain texts on screen (what a participant reads), in tree order."""
        return [str(getattr(label, "plain", label.text)) for label in self.labels()]

    def buttons(self) -> dict[str, TouchButton]:
        return {w.code: w for w in self.walk(restrict=True) if isinstance(w, TouchButton)}
