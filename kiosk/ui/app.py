"""The touchscreen app: the Kivy `App` around one kiosk's engine (see `kiosk.ui.run` to start it).

Threads: Kivy's thread draws and takes touches; the kiosk loop (`bridge.Runner`) runs the
engine, camera, thermometer and printer. Results cross over only through `bridge.to_ui`. The
systemd watchdog is fed from Kivy's own clock, so a frozen UI stops feeding it and is restarted.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.uix.anchorlayout import AnchorLayout
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from configkit.hashed import verify_secret
from kiosk.adapters.qr import DecodeResult
from kiosk.domain.screens import Screen
from kiosk.engine import CheckinEngine
from kiosk.ports import FrameSource
from kiosk.ui.bridge import LOOP_S, PreviewFeed, Runner, to_ui
from kiosk.ui.controller import Controller, Timing
from kiosk.ui.kivyenv import hand_over_each_frame
from kiosk.ui.picture import PreviewImage
from kiosk.ui.sound import Sounds
from kiosk.ui.theme import Theme
from kiosk.ui.widgets import KioskView
from uplink import systemd

logger = logging.getLogger(__name__)
WATCHDOG_S = 1.0
UNREAD_HOLD_S = 1.5
SETTLE_S = 1.0  # after the first screen is drawn: memory settled once
TIMER_S = 0.0  # countdowns and inactivity: every frame (cheap; redraws only on change)


class KioskApp(App):
    """One kiosk's touchscreen.

    Args:
        engine: the check-in engine (its intents are called from Kivy's thread: they queue).
        camera: the frame source the preview shows (the loop's `step` decodes from it too).
        step: one pass of the kiosk loop (engine tick, frame decoding, state messages).
        theme: the panel.
        timing: inactivity rules.
        staff_pin_hash: the recovery PIN's hash ("" = none; `configkit.hashed`).
        threaded: run the loop on its own thread (False: on Kivy's clock, for tests/benchmarks).
        monotonic: the engine clock's monotonic time (deadlines are on it).
        sounds: cues and spoken prompts (None: silent).
        side_panel: builds a widget shown beside the kiosk screen (the simulation panel).
        watchdog: feed systemd's watchdog from the frame loop.
        watchdog_s: how often (0: every frame).
        decoded: the kiosk loop's last decoding (a QR seen but not read: "hold still, closer").
    """

    def __init__(
        self,
        *,
        engine: CheckinEngine,
        camera: FrameSource,
        step: Callable[[], None],
        theme: Theme,
        timing: Timing | None = None,
        staff_pin_hash: str = "",
        threaded: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
        sounds: Sounds | None = None,
        side_panel: Callable[[KioskApp], Widget] | None = None,
        watchdog: bool = True,
        watchdog_s: float = WATCHDOG_S,
        decoded: Callable[[], DecodeResult | None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.title = "Lapak Asik"
        self.engine = engine
        self.camera = camera
        self.theme_ = theme
        self.monotonic = monotonic
        self.sounds = sounds
        self.threaded = threaded
        self.watchdog = watchdog
        self.watchdog_s = watchdog_s
        self._side_panel = side_panel
        self.controller = Controller(
            engine,
            timing=timing,
            staff_pin_hash=staff_pin_hash,
            recover=self._recover,
            check_pin=self._check_pin,
        )
        self.runner = Runner(step)
        self.preview_feed = PreviewFeed(camera, self._show_frame, monotonic=monotonic)
        self.runner.after_step.append(self.preview_feed.poll)
        self.runner.after_step.append(self._watch_faults)
        self.view_widget: KioskView | None = None
        self.screens_seen = 0
        self.drawn_at: float | None = None  # when the first frame with a screen was drawn
        self._camera_down = False
        self._decoded = decoded
        self._unread_until = 0.0
        self._unread_shown = False
        self._last_decode: Any = None
        self._unsubscribe: Callable[[], None] | None = None
        self._events: list[Any] = []
        self._settle: Any = None

    # -- Kivy -----------------------------------------------------------------------------------

    def build(self) -> Widget:
        root = BoxLayout(orientation="horizontal")
        self.view_widget = KioskView(self.theme_, self.on_action)
        self.preview_feed.fit = self.view_widget.preview_fit()
        holder = AnchorLayout(anchor_x="left", anchor_y="top")  # the kiosk's screen, top left
        holder.add_widget(self.view_widget)
        if self._side_panel is not None:
            holder.size_hint_x = None
            holder.width = self.theme_.width
        root.add_widget(holder)
        if self._side_panel is not None:
            root.add_widget(self._side_panel(self))
        return root

    def on_start(self) -> None:
        hand_over_each_frame()
        self._unsubscribe = self.engine.subscribe(lambda screen: to_ui(self._on_screen, screen))
        if self.threaded:
            self.runner.start()
        else:
            self._events.append(Clock.schedule_interval(lambda _dt: self.runner.run_once(), 0))
        self._events.append(Clock.schedule_interval(self._tick, TIMER_S))
        if self.watchdog:
            self._events.append(Clock.schedule_interval(self._feed_watchdog, self.watchdog_s))

    def on_stop(self) -> None:
        for event in self._events:
            event.cancel()
        self._events.clear()
        if self._settle is not None:
            self._settle.cancel()
        self.runner.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()

    # -- from the kiosk loop (through the bridge) -----------------------------------------------

    def _on_screen(self, screen: Screen) -> None:
        previous = self.controller.screen
        self.controller.show(screen, self.monotonic())
        self.screens_seen += 1
        if self.sounds is not None:
            self.sounds.on_screen(previous, screen, self.controller.lang)
        self.render()

    def _show_frame(self, image: PreviewImage) -> None:
        view = self.view_widget
        if view is not None and view.preview is not None and view.preview.parent is not None:
            view.preview.show_image(image)

    def _watch_faults(self) -> None:
        self._watch_unread()
        down = "camera" in self.engine.faults
        if down != self._camera_down:
            self._camera_down = down
            to_ui(self._set_camera_down, down)

    def _watch_unread(self) -> None:
        """A QR seen but not read keeps the scanning screen up for `UNREAD_HOLD_S` (no flicker)."""
        if self._decoded is None:
            return
        result = self._decoded()
        now = self.monotonic()
        if result is not None and result is not self._last_decode:
            self._last_decode = result
            if result.unread and not result.texts:
                self._unread_until = now + UNREAD_HOLD_S
        unread = now < self._unread_until
        if unread != self._unread_shown:
            self._unread_shown = unread
            to_ui(self._set_unread, unread)

    def _set_unread(self, unread: bool) -> None:
        if self.controller.set_camera(seen_not_read=unread):
            self.render()

    def _set_camera_down(self, down: bool) -> None:
        if self.controller.set_camera(down=down):
            self.render()

    # -- touches and timers (Kivy's thread) -----------------------------------------------------

    def on_action(self, code: str) -> None:
        self.controller.touch(code, self.monotonic())
        if self.sounds is not None and code != "stay":  # a key clicks; the glass does not
            self.sounds.touched()
        self.render()

    def _tick(self, _dt: float) -> None:
        if self.controller.tick(self.monotonic()):
            self.render()

    def render(self) -> None:
        if self.view_widget is None:
            return
        self.view_widget.render(self.controller.view())
        if self.drawn_at is None:
            self.drawn_at = time.monotonic()
            self._settle = Clock.schedule_once(self._settle_memory, SETTLE_S)
            if self.watchdog:
                Clock.schedule_once(lambda _dt: systemd.notify_ready(), 0)

    def _settle_memory(self, _dt: float) -> None:
        """What exists once the first screen is up (Kivy, the app, the engine) lives as long as
        the process: it is moved out of the collector's full passes, which otherwise walk all of
        it (a quarter million Kivy objects, ~0.3 s here) in the middle of a check-in."""
        gc.collect()
        gc.freeze()

    def _feed_watchdog(self, _dt: float) -> None:
        systemd.notify_watchdog()  # only while Kivy's frame loop comes round

    def _check_pin(self, pin: str, hashed: str, done: Callable[[bool], None]) -> None:
        """The staff PIN checked on a thread of its own: PBKDF2 at the configured iterations
        would hold Kivy's frame loop (and the watchdog it feeds) for a second or more on a Pi."""

        def check() -> None:
            ok = verify_secret(pin, hashed)
            to_ui(self._pin_checked, done, ok)

        threading.Thread(target=check, name="staff-pin", daemon=True).start()

    def _pin_checked(self, done: Callable[[bool], None], ok: bool) -> None:
        done(ok)
        self.render()

    def _recover(self) -> None:
        logger.warning("staff recovery at the kiosk: faults cleared, devices retried")
        self.engine.recover()


LOOP_PERIOD_S = LOOP_S
