"""Sound for those who cannot read the screen: cues and spoken prompts through Kivy's audio.

Files come from `kiosk voices` (`kiosk.ui.voices`). A missing file, voice or audio device is a
logged fault, once per file, never an exception: the kiosk keeps serving in silence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.bilingual import Lang
from kiosk.domain.screens import Phase, Screen
from kiosk.ui.voices import cue_path, prompt_path

logger = logging.getLogger(__name__)
PROMPT_DELAY_S = 0.45  # after the cue

Loader = Callable[[str], Any]  # Kivy's SoundLoader.load: a Sound, or None when it cannot


def _kivy_loader(path: str) -> Any:
    from kivy.core.audio import SoundLoader

    return SoundLoader.load(path)


def cue_for(previous: Screen, screen: Screen) -> str | None:
    """Which cue a screen change plays, if any."""
    before, now = previous.phase, screen.phase
    if now is Phase.TICKET:
        return "accepted" if screen.ticket is None or screen.ticket.printed else "refused"
    if now is Phase.REFUSED:
        return "refused"
    if now in (Phase.RESTING, Phase.REFERRED):
        return "too_hot"
    if before is Phase.IDLE and now in (Phase.MEASURING, Phase.CHECKING):
        return "read"
    return None


def prompt_for(screen: Screen) -> str | None:
    """Which spoken prompt a screen has (`kiosk.ui.voices.PROMPTS`)."""
    phase = screen.phase
    if phase is Phase.TICKET:
        return "ticket" if screen.ticket is None or screen.ticket.printed else "ticket_unprinted"
    return {
        Phase.IDLE: None,  # the welcome screen is not announced to everyone passing by
        Phase.CHECKING: "checking",
        Phase.CHOOSE_SERVICE: "choose_service",
        Phase.MEASURING: "temperature" if screen.attempt <= 1 and not screen.present else None,
        Phase.RESTING: "resting",
        Phase.PRINTING: "printing",
        Phase.REFUSED: "refused",
        Phase.REFERRED: "referred",
        Phase.OUT_OF_SERVICE: "out_of_service",
    }.get(phase)


class Sounds:
    """Plays cues and prompts from `directory`.

    Args:
        directory: where `kiosk voices` wrote the WAV files.
        volume: 0-1.
        enabled: False: silent (nothing is loaded).
        spoken: play spoken prompts too, not only cues.
        loader: loads a file (Kivy's `SoundLoader.load` by default; tests pass a fake).
        later: runs a callable after a delay (Kivy's clock by default).
    """

    def __init__(
        self,
        directory: Path,
        *,
        volume: float = 0.8,
        enabled: bool = True,
        spoken: bool = True,
        loader: Loader | None = None,
        later: Callable[[Callable[[], None], float], None] | None = None,
    ) -> None:
        self.directory = directory
        self.volume = volume
        self.enabled = enabled
        self.spoken = spoken
        self._load = loader or _kivy_loader
        self._later = later or _kivy_later
        self._cache: dict[Path, Any] = {}
        self.faults: dict[str, str] = {}  # file name -> why it cannot play
        self.played: list[str] = []

    def on_screen(self, previous: Screen, screen: Screen, lang: Lang) -> None:
        """Play the cue of this change, then the screen's prompt in `lang`."""
        if not self.enabled or (previous.phase is screen.phase and previous == screen):
            return
        cue = cue_for(previous, screen)
        if cue is not None:
            self.play(cue_path(self.directory, cue))
        prompt = prompt_for(screen) if self.spoken else None
        if prompt is not None and prompt_for(previous) != prompt:
            path = prompt_path(self.directory, lang, prompt)
            self._later(lambda: self._play_quietly(path), PROMPT_DELAY_S if cue else 0.0)

    def _play_quietly(self, path: Path) -> None:
        self.play(path)

    def touched(self) -> None:
        """A touch was taken (the "read" cue doubles as a key click)."""
        if self.enabled:
            self.play(cue_path(self.directory, "read"))

    def play(self, path: Path) -> bool:
        """Play one file; False (and a logged fault, once) when it cannot."""
        sound = self._sound(path)
        if sound is None:
            return False
        try:
            sound.volume = self.volume
            sound.stop()
            sound.play()
        except Exception as exc:  # an audio backend failing must never stop a check-in
            self._fault(path, f"cannot play: {exc}")
            return False
        self.played.append(path.name)
        return True

    def _sound(self, path: Path) -> Any:
        if path in self._cache:
            return self._cache[path]
        sound = None
        if not path.is_file():
            self._fault(path, "missing; run `kiosk voices` to generate the prompts")
        else:
            try:
                sound = self._load(str(path))
            except Exception as exc:
                self._fault(path, f"cannot load: {exc}")
            else:
                if sound is None:
                    self._fault(path, "no audio device or format not supported")
        self._cache[path] = sound
        return sound

    def _fault(self, path: Path, why: str) -> None:
        if path.name not in self.faults:
            logger.warning("sound fault: %s %s", path, why)
        self.faults[path.name] = why


def _kivy_later(function: Callable[[], None], delay_s: float) -> None:
    from kivy.clock import Clock

    Clock.schedule_once(lambda _dt: function(), delay_s)
