"""Check-ins through the real touchscreen: nothing piles up (widgets, textures, events).

60 in the suite (each check-in commits durably; screens are shown again, not rebuilt);
``KIOSK_UI_SOAK=1000`` runs the full soak, and `tests/bench/ui.py` measures memory over 1,000.
"""

from __future__ import annotations

import os

from kiosk.domain.screens import Phase
from tests.kiosk.ui.uirig import GraphicUnitTest, open_touchscreen

CHECKINS = int(os.environ.get("KIOSK_UI_SOAK", "60"))


class SoakTest(GraphicUnitTest):  # type: ignore[misc]
    def test_many_check_ins_leave_the_ui_as_it_was(self) -> None:
        ui = open_touchscreen(self, zero_delay=True)
        ui.draw = False  # widgets, labels and textures as always; only the window's flip skipped
        kiosk = ui.kiosk
        kiosk.printer.render = False
        frames = [kiosk.frame_of(kiosk.token()) for _ in range(CHECKINS)]
        finished: list[str] = []
        kiosk.engine.on_finished(lambda done: finished.append(done.phase.value))
        view = ui.app.view_widget
        assert view is not None
        textures: list[object] = []
        builds = 0
        widgets_on_ticket = set()
        for index, frame in enumerate(frames):
            kiosk.camera.show(frame)
            ui.until(Phase.TICKET, advance_s=0.1)
            widgets_on_ticket.add(sum(1 for _ in view.walk()))
            ui.tap("done")
            kiosk.step_away()
            ui.until(Phase.IDLE, advance_s=0.0)
            ui.frames(1, advance_s=5.0)  # the next participant, past the repeat window
            if index == 0:
                assert view.preview is not None
                textures = list(view.preview.textures)
                builds = view.builds
        assert finished == ["ticket"] * CHECKINS
        assert len(kiosk.printer.jobs) == CHECKINS
        assert view.preview is not None  # the same two textures take turns for every picture
        assert len(textures) == 2
        assert all(a is b for a, b in zip(view.preview.textures, textures, strict=True))
        assert view.builds == builds  # after the first check-in every screen is shown again
        assert view.preview.blits >= CHECKINS
        assert len(widgets_on_ticket) == 1  # every ticket screen is built the same, nothing kept
        assert len(ui.app._events) == 2  # the loop and the timers: no event scheduled per check-in
