"""Kivy's process settings, made before Kivy is first imported (it reads them at import)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def prepare(*, offscreen: bool = False, audio: bool = True) -> None:
    """Set Kivy's environment: no argument parsing, no console or file log, its home in a
    temporary folder (a kiosk's root file system may be read-only), and with `offscreen`
    SDL's offscreen video driver (real pixels through Mesa, no display needed).

    Call it before anything imports Kivy; settings already in the environment win.
    """
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KCFG_KIVY_LOG_LEVEL", "warning")  # Kivy's config, from the env
    home = Path(tempfile.gettempdir()) / "lapak-kivy"
    home.mkdir(exist_ok=True)
    os.environ.setdefault("KIVY_HOME", str(home))
    if offscreen:
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
        # No GPU here: Mesa's software renderer rasterises on the thread that draws instead of
        # on one worker per core, which on a shared 2-core machine wait for a turn mid-frame.
        os.environ.setdefault("LP_NUM_THREADS", "0")
    if not audio:
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


def display_available() -> bool:
    """Whether a display server is there to open a window on (X11 or Wayland)."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def offscreen() -> bool:
    """Whether Kivy draws with SDL's offscreen driver (tests, the gallery, the benchmark)."""
    return os.environ.get("SDL_VIDEODRIVER") == "offscreen"


def hand_over_each_frame() -> None:
    """Offscreen, make every drawn frame go to the renderer as a display's buffer swap does.

    With no display, a swap shows nothing, so Mesa's software renderer keeps queueing frames
    until something needs their pixels: the next camera picture's texture upload, which then
    waits on Kivy's thread for all of them to be rasterised (35-100 ms per picture here). A
    flush after each frame hands it over at once, as on the kiosk's screen. Call it once the
    window exists; a no-op with a display.
    """
    if not offscreen():
        return
    from kivy.core.window import Window
    from kivy.graphics.opengl import glFlush

    Window.bind(on_flip=lambda *_: glFlush())
