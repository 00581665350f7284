"""Starting the touchscreen: `kiosk run --config F` with ``[ui] enabled``, `kiosk run --simulate`.

Nothing here imports Kivy at module level: the command line loads this module, decides whether a
display is there, and only then prepares and imports Kivy.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from configkit.hashed import hash_secret
from kiosk.config import KioskConfig, UiConfig
from kiosk.ui.cli import kivy_missing
from kiosk.ui.controller import Timing
from kiosk.ui.kivyenv import display_available, prepare
from kiosk.ui.theme import Theme, panel_scale

if TYPE_CHECKING:
    from uplink.clock import SimulatedClock

logger = logging.getLogger(__name__)
PANEL_W = 420
SIM_PIN = "0000"  # the staff PIN of `kiosk run --simulate` and `branchsim --ui`
SIM_PIN_HASH = hash_secret(SIM_PIN, iterations=1000, salt=b"lapak-simulation")
SIM_H = 800  # the simulation window: room for the panel and the printed ticket


def theme_of(ui: UiConfig) -> Theme:
    scale = ui.scale if ui.scale is not None else panel_scale(ui.width_px, ui.height_px)
    return Theme(ui.width_px, ui.height_px, scale)


def timing_of(ui: UiConfig) -> Timing:
    return Timing(inactivity_s=ui.inactivity_s, countdown_s=ui.countdown_s)


def why_headless(ui: UiConfig) -> str | None:
    """Why `kiosk run` stays headless with this `[ui]` table (None: show the touchscreen)."""
    if not ui.enabled:
        return None  # headless by choice: nothing to say
    if not display_available():
        return "[ui] is enabled but there is no display (DISPLAY or WAYLAND_DISPLAY is unset)"
    return kivy_missing()


def configure_window(
    ui: UiConfig,
    *,
    width: int | None = None,
    height: int | None = None,
    fullscreen: bool | None = None,
) -> None:
    """Kivy's window settings; call before `kivy.core.window` is imported."""
    from kivy.config import Config

    full = ui.fullscreen if fullscreen is None else fullscreen
    Config.set("graphics", "width", str(width or ui.width_px))
    Config.set("graphics", "height", str(height or ui.height_px))
    Config.set("graphics", "fullscreen", "auto" if full else "0")
    Config.set("graphics", "borderless", "1" if full else "0")
    Config.set("graphics", "show_cursor", "0" if full else "1")
    Config.set("graphics", "rotation", str(ui.rotation))
    Config.set("graphics", "resizable", "0")
    Config.set("kivy", "exit_on_escape", "0")  # no key leaves the app
    Config.set("input", "mouse", "mouse,disable_multitouch")


def run_with_ui(config: KioskConfig, stop: threading.Event) -> bool:
    """Run the kiosk with its touchscreen until `stop`; False when it must run headless."""
    ui = config.ui
    reason = why_headless(ui)
    if not ui.enabled or reason is not None:
        if reason:
            logger.warning("%s; running headless", reason)
        return False
    prepare(audio=ui.sound.enabled)
    configure_window(ui)
    from kivy.clock import Clock

    from kiosk import app as wiring
    from kiosk.ui.app import KioskApp
    from kiosk.ui.sound import Sounds

    kiosk = wiring.build(config)
    kiosk.start(stop)
    sound = ui.sound
    touchscreen = KioskApp(
        engine=kiosk.engine,
        camera=kiosk.camera,
        step=kiosk.step,
        theme=theme_of(ui),
        timing=timing_of(ui),
        staff_pin_hash=ui.staff_pin_hash,
        monotonic=kiosk.clock.monotonic,
        sounds=Sounds(
            sound.voices_dir, volume=sound.volume, enabled=sound.enabled, spoken=sound.spoken
        ),
        decoded=lambda: kiosk.last_decode,
    )
    Clock.schedule_interval(lambda _dt: touchscreen.stop() if stop.is_set() else None, 0.5)
    try:
        touchscreen.run()
    finally:
        stop.set()
        kiosk.close()
    return True


def run_simulated_ui(
    out: Path | None, *, now: str | None = None, ui: UiConfig | None = None
) -> int:
    """`kiosk run --simulate`: the full app on simulated devices with the simulation panel."""
    reason = ui_unavailable()
    if reason is not None:
        print(f"kiosk run --simulate: {reason}")
        return 2
    from kiosk.ui.simulate import now_of

    start = now_of(now)
    ui = ui or UiConfig(enabled=True, fullscreen=False)
    prepare(audio=ui.sound.enabled)
    configure_window(
        ui, width=ui.width_px + PANEL_W, height=max(ui.height_px, SIM_H), fullscreen=False
    )
    from kiosk.ui.app import KioskApp
    from kiosk.ui.simpanel import SimPanel
    from kiosk.ui.simulate import sim_kiosk
    from uplink import SystemClock
    from uplink.clock import SimulatedClock

    directory = out or Path(tempfile.mkdtemp(prefix="kiosk-sim-"))
    clock = SimulatedClock(start) if start is not None else SystemClock()
    kiosk = sim_kiosk(directory, clock)
    print(f"simulated kiosk: tickets in {directory / 'tickets'}, events in "
          f"{directory / 'events.jsonl'}")  # fmt: skip
    touchscreen = KioskApp(
        engine=kiosk.engine,
        camera=kiosk.camera,
        step=kiosk.step,
        theme=theme_of(ui),
        timing=timing_of(ui),
        staff_pin_hash=SIM_PIN_HASH,
        monotonic=clock.monotonic,
        side_panel=lambda app: SimPanel(
            app, kiosk, staff_pin=SIM_PIN, size_hint_x=None, width=PANEL_W
        ),
        watchdog=False,
        decoded=lambda: kiosk.last_decode,
    )
    try:
        touchscreen.run()
    finally:
        kiosk.close()
    return 0


def ui_unavailable() -> str | None:
    """Why no touchscreen window can open here, with how to get one; None when it can."""
    reason = kivy_missing()
    if reason is None and not display_available():
        reason = (
            "no display (DISPLAY or WAYLAND_DISPLAY is unset); run it in a desktop session, on "
            "the kiosk's screen, or under a virtual display: xvfb-run -a -s '-screen 0 "
            "1280x800x24' COMMAND (Debian package xvfb), then look at it with a VNC viewer "
            "or screenshots"
        )
    return reason


def run_branch_kiosk(
    config: KioskConfig,
    images: Path,
    out_dir: Path,
    *,
    clock: SimulatedClock,
    stop: threading.Event,
    seed: int | None = None,
) -> None:
    """One kiosk of the simulated branch with its touchscreen, on this (the main) thread.

    The same parts as `kiosk.app.run_simulated` (real uplink to the branch's broker, folder
    camera of today's sample bookings, simulated participants, thermometer and printer), with the
    touchscreen and the device side of the simulation panel (paper out, camera hang, the
    printed ticket) beside it. Blocks until the window closes (which sets `stop`) or `stop`.
    """

    prepare(audio=False)
    ui = UiConfig(enabled=True, fullscreen=False)
    configure_window(ui, width=ui.width_px + PANEL_W, height=SIM_H, fullscreen=False)
    from kivy.clock import Clock

    from kiosk.sim.runner import build_simulated_kiosk
    from kiosk.ui.app import KioskApp
    from kiosk.ui.simpanel import SimPanel

    out_dir.mkdir(parents=True, exist_ok=True)
    sim = build_simulated_kiosk(config, images, out_dir, clock, seed=seed)
    kiosk, participants = sim.kiosk, sim.participants
    camera, thermometer, printer = sim.camera, sim.thermometer, sim.printer

    def step() -> None:
        participants.step(clock.monotonic())
        kiosk.step()

    parts = PanelParts(camera, thermometer, printer)
    touchscreen = KioskApp(
        engine=kiosk.engine,
        camera=camera,
        step=step,
        theme=theme_of(ui),
        timing=timing_of(ui),
        staff_pin_hash=SIM_PIN_HASH,
        monotonic=clock.monotonic,
        side_panel=lambda app: SimPanel(
            app, parts, people=False, staff_pin=SIM_PIN, size_hint_x=None, width=PANEL_W
        ),
        watchdog=False,
    )
    kiosk.start(stop)
    Clock.schedule_interval(lambda _dt: touchscreen.stop() if stop.is_set() else None, 0.5)
    try:
        touchscreen.run()
    finally:
        stop.set()  # the window was closed: the branch ends with it
        kiosk.uplink.publish_state(kiosk.state())
        kiosk.uplink.wait_drained(2.0)
        kiosk.close()


@dataclass
class PanelParts:
    """The simulated devices the panel drives when participants come on their own."""

    camera: Any
    thermometer: Any
    printer: Any

    def forget(self, keep: int = 10) -> None:
        del self.printer.jobs[:-keep]
