"""Check-ins through the real touchscreen: nothing piles up (widgets, textures, events, memory).

The issue's soak: 1,000 check-ins (about 40 s on a loaded 2-core machine: each commits durably;
screens are shown again, not rebuilt). ``KIOSK_UI_SOAK=N`` runs another count;
`tests/bench/ui.py` measures the same memory growth with the window drawing every frame.
"""

from __future__ import annotations

import os
import resource
from collections import Counter

import pytest

from kiosk.domain.screens import Phase
from tests.kiosk.ui.uirig import GraphicUnitTest, open_touchscreen

CHECKINS = int(os.environ.get("KIOSK_UI_SOAK", "1000"))
WARMUP = 100  # caches filled, every screen shape built once
RSS_GROWTH_MB_PER_1000 = 5.0  # issue 13's bar


def rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as stream:
        pages = int(stream.read().split()[1])
    return pages * resource.getpagesize() / 1e6


@pytest.mark.slow
class SoakTest(GraphicUnitTest):  # type: ignore[misc]
    def test_many_check_ins_leave_the_ui_as_it_was(self) -> None:
        ui = open_touchscreen(self, zero_delay=True)
        ui.draw = False  # widgets, labels and textures as always; only the window's flip skipped
        kiosk = ui.kiosk
        kiosk.printer.render = False
        finished: Counter[str] = Counter()
        kiosk.engine.on_finished(lambda done: finished.update([done.phase.value]))
        printed = 0
        view = ui.app.view_widget
        assert view is not None
        textures: list[object] = []
        builds = 0
        widgets_on_ticket = set()
        for index in range(CHECKINS):  # each booking for the hour the clock has reached
            kiosk.camera.show(kiosk.frame_of(kiosk.token()))
            ui.until(Phase.TICKET, advance_s=0.1)
            printed += len(kiosk.printer.jobs)
            kiosk.forget(keep=0)  # the simulators' own records: not the kiosk's memory
            widgets_on_ticket.add(sum(1 for _ in view.walk()))
            ui.tap("done")
            kiosk.step_away()
            ui.until(Phase.IDLE, advance_s=0.0)
            ui.frames(1, advance_s=5.0)  # the next participant, past the repeat window
            if index == min(WARMUP, CHECKINS // 2):
                rss_warm, warm_index = rss_mb(), index
            if index == 0:
                assert view.preview is not None
                textures = list(view.preview.textures)
                builds = view.builds
        growth = (rss_mb() - rss_warm) / max(1, CHECKINS - 1 - warm_index) * 1000
        assert growth <= RSS_GROWTH_MB_PER_1000, f"{growth:.1f} MB more per 1,000 check-ins"
        assert finished == {"ticket": CHECKINS}
        assert printed == CHECKINS
        assert view.preview is not None  # the same two textures take turns for every picture
        assert len(textures) == 2
        assert all(a is b for a, b in zip(view.preview.textures, textures, strict=True))
        assert view.builds == builds  # after the first check-in every screen is shown again
        assert view.preview.blits >= CHECKINS
        assert len(widgets_on_ticket) == 1  # every ticket screen is built the same, nothing kept
        assert len(ui.app._events) == 2  # the loop and the timers: no event scheduled per check-in
