"""The simulation panel beside the simulated kiosk: the staff PIN a newcomer needs, and no other."""

from __future__ import annotations

from kiosk.ui.run import SIM_PIN, SIM_PIN_HASH
from tests.kiosk.ui.uirig import STAFF_PIN, GraphicUnitTest, open_touchscreen


class SimPanelTest(GraphicUnitTest):  # type: ignore[misc]
    def test_the_panel_shows_the_simulated_pin_and_that_pin_opens_the_staff_screen(self) -> None:
        from kiosk.ui.simpanel import SimPanel

        ui = open_touchscreen(self, staff_pin_hash=SIM_PIN_HASH)
        panel = SimPanel(ui.app, ui.kiosk, staff_pin=SIM_PIN)
        assert panel.pin_note is not None
        assert SIM_PIN in panel.pin_note.text
        panel.camera_hang(True)  # a fault screen with the staff's button
        ui.frames(4)
        assert ui.view_name() == "camera_fault"
        panel.camera_hang(False)
        ui.tap("staff")
        for key in SIM_PIN:  # what a newcomer reads off the panel
            ui.tap(f"key:{key}")
        ui.tap("ok")
        ui.until_view("welcome")

    def test_a_pin_that_is_not_the_apps_is_never_shown(self) -> None:
        """A kiosk with its own PIN (a configured one) never shows the simulation's 0000."""
        from kivy.uix.label import Label

        from kiosk.ui.simpanel import SimPanel

        ui = open_touchscreen(self)  # the PIN is STAFF_PIN, not the simulation's
        assert STAFF_PIN != SIM_PIN
        panel = SimPanel(ui.app, ui.kiosk, staff_pin=SIM_PIN)
        assert panel.pin_note is None
        texts = [w.text for w in panel.walk(restrict=True) if isinstance(w, Label)]
        assert not any(SIM_PIN in text for text in texts), texts
        assert SimPanel(ui.app, ui.kiosk, staff_pin=STAFF_PIN).pin_note is not None
