"""A touchscreen under test: the real KioskApp over a simulated kiosk on a manual clock, driven
frame by frame with Kivy's own test support (`GraphicUnitTest`, `UnitTestTouch`, offscreen)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from configkit.hashed import hash_secret
from kiosk.ui.kivyenv import prepare

# Frames are driven by the tests: Kivy's clock must not sleep to hold 60 a second between them.
os.environ.setdefault("KCFG_GRAPHICS_MAXFPS", "0")
prepare(offscreen=True, audio=False)

from kivy.base import EventLoop  # noqa: E402
from kivy.clock import Clock  # noqa: E402
from kivy.lang import Builder  # noqa: E402
from kivy.tests.common import GraphicUnitTest, UnitTestTouch  # noqa: E402

from kiosk.domain.screens import Phase  # noqa: E402
from kiosk.sim.bookings import SimIssuer  # noqa: E402
from kiosk.ui.app import KioskApp  # noqa: E402
from kiosk.ui.controller import Timing  # noqa: E402
from kiosk.ui.simulate import SimKiosk, sim_kiosk  # noqa: E402
from kiosk.ui.theme import RESOLUTIONS  # noqa: E402
from tests.kiosk.rig import NOW  # noqa: E402
from uplink import ManualClock  # noqa: E402

ISSUER = SimIssuer()  # key generation is slow: one for the module
STAFF_PIN = "2468"
STAFF_PIN_HASH = hash_secret(STAFF_PIN, iterations=1000, salt=b"0123456789abcdef")


@dataclass
class Touchscreen:
    """The app, its simulated kiosk and the manual clock both run on."""

    app: KioskApp
    kiosk: SimKiosk
    clock: ManualClock
    test: GraphicUnitTest

    draw: bool = True  # False: every frame but the window's final draw (faster soaks)

    def frames(self, count: int = 3, *, advance_s: float = 0.05) -> None:
        """`count` Kivy frames, the manual clock moving `advance_s` before each."""
        for _ in range(count):
            self.clock.advance(advance_s)
            if self.draw:
                self.test.advance_frames(1)
            else:
                Clock.tick()
                EventLoop.dispatch_input()
                Builder.sync()
                Clock.tick_draw()
                Builder.sync()

    def until(self, phase: Phase, *, limit: int = 400, advance_s: float = 0.05) -> None:
        for _ in range(limit):
            if self.app.controller.screen.phase is phase:
                self.frames(2, advance_s=0.0)  # drawn
                return
            self.frames(1, advance_s=advance_s)
        raise AssertionError(f"never reached {phase}; at {self.app.controller.screen.phase}")

    def until_view(self, name: str, *, limit: int = 200) -> None:
        """Frames until the screen shown is `name` (an answer from another thread comes back
        through Kivy's clock, a frame or a few later)."""
        for _ in range(limit):
            if self.view_name() == name:
                return
            self.frames(1)
        raise AssertionError(f"never showed {name}; at {self.view_name()}")

    def view_name(self) -> str:
        assert self.app.view_widget is not None and self.app.view_widget.view is not None
        return self.app.view_widget.view.name

    def texts(self) -> list[str]:
        assert self.app.view_widget is not None
        return self.app.view_widget.texts()

    def tap(self, code: str) -> None:
        """Touch the target whose action is `code`, like a finger would (down, up)."""
        assert self.app.view_widget is not None
        buttons = self.app.view_widget.buttons()
        assert code in buttons, f"no {code!r} on {self.view_name()}: {sorted(buttons)}"
        x, y = buttons[code].to_window(*buttons[code].center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()
        self.frames(2, advance_s=0.0)


def open_touchscreen(test: GraphicUnitTest, **app_options: Any) -> Touchscreen:
    theme = RESOLUTIONS["800x480"]
    test.Window.size = (theme.width, theme.height)
    directory = Path(tempfile.mkdtemp(prefix="kiosk-ui-test-"))
    clock = ManualClock(NOW)
    kiosk = sim_kiosk(directory, clock, issuer=ISSUER, render_tickets=False,
                      zero_delay=bool(app_options.pop("zero_delay", False)))  # fmt: skip
    app = KioskApp(
        engine=kiosk.engine,
        camera=kiosk.camera,
        step=kiosk.step,
        theme=theme,
        timing=Timing(inactivity_s=20, countdown_s=10),
        decoded=lambda: kiosk.last_decode,
        threaded=False,
        monotonic=clock.monotonic,
        **{"watchdog": False, "staff_pin_hash": STAFF_PIN_HASH, **app_options},
    )
    root = app.build()
    test.Window.add_widget(root)
    app.on_start()
    screen = Touchscreen(app, kiosk, clock, test)
    test.addCleanup(app.on_stop)
    test.addCleanup(kiosk.close)
    screen.frames(3)
    return screen
