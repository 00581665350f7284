"""The kiosk screen's widgets: built once per shape, shown again with new texts; pictures."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from kiosk.ui.picture import preview_image
from kiosk.ui.samples import samples
from kiosk.ui.theme import RESOLUTIONS
from kiosk.ui.view import view_of
from tests.kiosk.ui.uirig import GraphicUnitTest


class ShapeTest(GraphicUnitTest):  # type: ignore[misc]
    def test_a_screen_shown_again_with_other_texts_is_not_built_again(self) -> None:
        from kiosk.ui.widgets import KioskView

        screen, local = samples()["ticket"]
        first = view_of(screen, "id", local)
        second = replace(first, number="JHT A1-042", countdown="Kembali ke awal dalam 3 detik")
        view = KioskView(RESOLUTIONS["800x480"], on_action=lambda _code: None)
        self.Window.add_widget(view)
        view.render(first)
        widgets = list(view.walk())
        view.render(second)
        assert view.builds == 1
        assert list(view.walk()) == widgets  # the very same widgets
        assert "JHT A1-042" in view.texts()
        assert first.number not in view.texts()
        assert "◷ Kembali ke awal dalam 3 detik" in view.texts()
        view.render(view_of(screen, "en", local))  # another language: another shape
        assert view.builds == 2
        assert first.number in view.texts()

    def test_the_camera_picture_follows_the_screens_that_show_it(self) -> None:
        from kiosk.ui.widgets import KioskView

        all_samples = samples()
        welcome = view_of(all_samples["welcome"][0], "id", all_samples["welcome"][1])
        scanning = view_of(all_samples["scanning"][0], "id", all_samples["scanning"][1])
        view = KioskView(RESOLUTIONS["800x480"], on_action=lambda _code: None)
        self.Window.add_widget(view)
        for shown in (welcome, scanning, welcome):
            view.render(shown)
            assert view.preview is not None
            assert view.preview in list(view.walk())
        assert view.builds == 2


class PortraitTest(GraphicUnitTest):  # type: ignore[misc]
    def test_the_tall_panel_shows_the_number_larger_in_the_middle(self) -> None:
        from kiosk.ui.widgets import KioskView

        screen, local = samples()["ticket"]
        heights = {}
        for name in ("800x480", "1080x1920"):
            theme = RESOLUTIONS[name]
            self.Window.size = (theme.width, theme.height)
            view = KioskView(theme, on_action=lambda _code: None)
            self.Window.add_widget(view)
            view.render(view_of(screen, "id", local))
            self.advance_frames(2)
            number = next(w for w in view.labels() if getattr(w, "plain", "") == "A1-007"
                          or getattr(w, "plain", "") == "JHT A1-007")  # fmt: skip
            heights[name] = number.height
            if name == "1080x1920":
                assert number.plain == "A1-007"  # the service on its own line above
                middle = number.to_window(*number.center)[1]
                assert theme.height / 3 < middle < theme.height * 2 / 3
            self.Window.remove_widget(view)
        assert heights["1080x1920"] > 2 * heights["800x480"]


def test_a_preview_picture_is_shrunk_to_its_box_and_never_enlarged() -> None:
    frame = np.arange(480 * 640, dtype=np.uint32).astype(np.uint8).reshape(480, 640)
    small = preview_image(frame, (320, 400))
    assert (small.width, small.height, small.fmt) == (320, 240, "luminance")
    assert len(small.data) == 320 * 240
    same = preview_image(frame, (1000, 1000))
    assert (same.width, same.height) == (640, 480)
    assert same.data == frame.tobytes()
    colour = preview_image(np.zeros((480, 640, 3), dtype=np.uint8), (160, 160))
    assert (colour.width, colour.height, colour.fmt) == (160, 120, "bgr")
    assert len(colour.data) == 160 * 120 * 3


def _drawn(test: GraphicUnitTest, name: str, resolution: str, lang: str = "id") -> Any:
    """The gallery's screen `name` laid out on the panel `resolution`."""
    from kiosk.ui.widgets import KioskView

    theme = RESOLUTIONS[resolution]
    test.Window.size = (theme.width, theme.height)
    screen, local = samples()[name]
    view = KioskView(theme, on_action=lambda _code: None)
    test.Window.add_widget(view)
    test.addCleanup(test.Window.remove_widget, view)
    view.render(view_of(screen, lang, local))  # type: ignore[arg-type]
    test.advance_frames(3)
    return view


class CameraFaultTest(GraphicUnitTest):  # type: ignore[misc]
    def test_the_tall_panel_gives_the_ways_in_the_room_and_staff_the_bottom(self) -> None:
        view = _drawn(self, "camera_fault", "1080x1920")
        theme = RESOLUTIONS["1080x1920"]
        buttons = view.buttons()
        keypad, walkin, staff = buttons["keypad"], buttons["walkin"], buttons["staff"]
        assert keypad.height >= 2 * theme.touch and walkin.height >= 2 * theme.touch
        assert keypad.y > walkin.y > staff.y  # typed code first, staff's button last
        assert staff.y < theme.height * 0.1  # at the bottom, out of a participant's way
        # the ways in stand in the middle third, not under the header
        middle = (keypad.top + walkin.y) / 2
        assert theme.height / 3 < middle < theme.height * 2 / 3

    def test_the_small_panel_keeps_staff_out_of_the_header(self) -> None:
        view = _drawn(self, "camera_fault", "800x480", "en")
        buttons = view.buttons()
        assert buttons["staff"].top < buttons["keypad"].y  # below the ways in, not by the title
        assert buttons["lang"].y > buttons["keypad"].top  # the header keeps the language only


class KeypadTest(GraphicUnitTest):  # type: ignore[misc]
    def test_the_keypads_actions_are_one_height_and_each_label_on_one_line(self) -> None:
        """The tall panel's keypad: its actions in rows under the keys, one line each."""
        theme = RESOLUTIONS["1080x1920"]
        for lang in ("id", "en"):
            view = _drawn(self, "keypad", "1080x1920", lang)
            buttons = view.buttons()
            actions = [buttons[code] for code in ("cancel", "clear", "back", "ok")]
            assert {round(b.height) for b in actions} == {round(theme.touch)}
            for button in actions:  # one line: the label is no taller than its font
                assert button.texture_size[1] < 1.5 * button.font_size, (lang, button.plain)

    def test_every_key_and_action_on_the_7_inch_keypad_is_a_touch_target_both_ways(self) -> None:
        """GIVEN the booking keypad on the 800x480 panel, in both languages, with and without
        the inactivity countdown THEN every key and action is at least 72 dp wide and high (the
        keys were 57-64 px high under a row of actions), the actions stand in a column on the
        keys' right, one beside each row of keys and as high, and each label fits its button:
        one line a word at most, a one-word label on one line."""
        theme = RESOLUTIONS["800x480"]
        for lang in ("id", "en"):
            for name in ("keypad", "inactivity"):
                buttons = _drawn(self, name, "800x480", lang).buttons()
                keys = [b for code, b in buttons.items() if code.startswith("key:")]
                actions = [buttons[code] for code in ("cancel", "clear", "back", "ok")]
                assert len(keys) == 32
                for button in [*keys, *actions]:
                    assert button.width >= theme.touch, (lang, name, button.plain, button.width)
                    assert button.height >= theme.touch, (lang, name, button.plain, button.height)
                rows = sorted({round(k.center_y) for k in keys}, reverse=True)
                assert [round(a.center_y) for a in actions] == rows  # BATAL top, PERIKSA bottom
                assert {round(a.height) for a in actions} == {round(k.height) for k in keys}
                assert min(a.x for a in actions) > max(k.right for k in keys)
                for button in actions:
                    words = len(button.plain.split())
                    assert button.texture_size[1] < 1.5 * button.font_size * words, button.plain
                    assert button.texture_size[0] <= button.width, (lang, button.plain)
                    assert button.texture_size[1] <= button.height, (lang, button.plain)

    def test_the_7_inch_keys_stay_put_when_the_countdown_appears(self) -> None:
        """A finger on its way to a key hits that key: the countdown's line is kept free in
        the header before it is shown, so the keys do not move when it appears."""
        for lang in ("id", "en"):
            before = _drawn(self, "keypad", "800x480", lang).buttons()
            after = _drawn(self, "inactivity", "800x480", lang).buttons()
            for code in ("key:0", "key:Z", "ok"):
                assert tuple(before[code].pos) == tuple(after[code].pos), (lang, code)
                assert tuple(before[code].size) == tuple(after[code].size), (lang, code)

    def test_the_keypad_left_alone_says_how_to_stay_on_both_panels(self) -> None:
        view = _drawn(self, "inactivity", "1080x1920")
        assert "◷ Kembali ke awal dalam 6 detik. Sentuh layar untuk lanjut" in view.texts()
        # the 7" panel: on a line of the whole width under the header, above the keys (beside
        # the title it had no room: the keys would have shrunk under a touch target)
        small = _drawn(self, "inactivity", "800x480", "en")
        (line,) = [w for w in small.labels() if getattr(w, "plain", "").startswith("◷")]
        assert line.plain == "◷ Back to the start in 6 s. Touch the screen to continue"
        assert line.texture_size[1] < 1.5 * line.font_size  # one line
        keys = small.buttons()
        assert line.y > keys["key:0"].top and line.top < keys["lang"].y

    def test_the_staff_pin_pad_on_the_tall_panel_is_a_phones(self) -> None:
        view = _drawn(self, "staff_pin", "1080x1920")
        keys = view.buttons()
        assert keys["key:1"].y == keys["key:3"].y  # 1 2 3 in a row
        assert keys["key:4"].top < keys["key:1"].y
        assert keys["key:0"].center_x == keys["key:8"].center_x  # 0 under 8
        grid_bottom = keys["key:0"].y
        assert grid_bottom - keys["ok"].top < 2 * RESOLUTIONS["1080x1920"].gap  # no hole


class MessageTest(GraphicUnitTest):  # type: ignore[misc]
    def test_the_small_panel_shows_the_tone_icon_in_the_room_a_short_reason_leaves(self) -> None:
        from kiosk.ui.widgets import RoomBadge

        theme = RESOLUTIONS["800x480"]
        view = _drawn(self, "refused", "800x480", "en")
        (room,) = [w for w in view.walk(restrict=True) if isinstance(w, RoomBadge)]
        assert room.badge.text == view.view.icon
        assert room.badge.height == theme.touch * 1.5
        reason = next(w for w in view.labels() if getattr(w, "plain", "").startswith("Your book"))
        step = next(w for w in view.labels() if getattr(w, "plain", "").startswith("Please come"))
        assert step.top < room.badge.y < room.badge.top < reason.y  # between reason and step

    def test_with_many_words_the_icon_gives_way(self) -> None:
        from kiosk.ui.widgets import RoomBadge

        view = _drawn(self, "referred", "800x480", "id")
        (room,) = [w for w in view.walk(restrict=True) if isinstance(w, RoomBadge)]
        assert room.badge.text == ""  # no room for it at a readable size: not drawn at all
        assert room.badge.size == [0, 0]


class SmallTargetTest(GraphicUnitTest):  # type: ignore[misc]
    def test_the_gallery_names_a_touch_target_narrower_or_lower_than_72_dp(self) -> None:
        from kivy.uix.boxlayout import BoxLayout
        from kivy.uix.button import Button

        from kiosk.ui.gallery import small_targets

        theme = RESOLUTIONS["800x480"]
        root = BoxLayout()
        for text, size in (("low", (90, 57)), ("narrow", (71, 90)), ("fine", (72, 72))):
            root.add_widget(Button(text=text, size_hint=(None, None), size=size))
        found = small_targets(root, "keypad", theme)
        assert [(t.label, t.size) for t in found] == [("low", (90, 57)), ("narrow", (71, 90))]
        assert str(found[0]) == "keypad: touch target 'low' is 90x57 px, under 72 px"


class PreviewShareTest(GraphicUnitTest):  # type: ignore[misc]
    def test_the_7_inch_camera_picture_takes_the_share_its_layout_gives_it(self) -> None:
        """GIVEN the 800x480 panel THEN the camera picture is 55 % of its row on the QR-seen
        screen (the box `preview_fit` shrinks pictures to) and 40 % beside the welcome's
        buttons. Size hints are weights: 0.55 beside an unhinted text column left it 35 %
        (263 px wide, the yellow frame 184 px) and the welcome's 28 % (212 px)."""
        theme = RESOLUTIONS["800x480"]
        row = theme.width - 2 * theme.margin - 1.5 * theme.gap
        scan = _drawn(self, "scanning", "800x480")
        assert scan.preview is not None
        assert abs(scan.preview.width - scan.preview_fit()[0]) <= 1
        assert abs(scan.preview.width - 0.55 * row) <= 1
        welcome = _drawn(self, "welcome", "800x480")
        assert welcome.preview is not None
        assert abs(welcome.preview.width - 0.4 * row) <= 1
