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
    if not audio:
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


def display_available() -> bool:
    """Whether a display server is there to open a window on (X11 or Wayland)."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
