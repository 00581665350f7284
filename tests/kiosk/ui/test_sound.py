"""Sound: espeak-ng prompts and cues as WAV files; a missing file or device is a fault only."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import pytest

from kiosk.domain import screens
from kiosk.domain.screens import Phase
from kiosk.ui.sound import Sounds, cue_for, prompt_for
from kiosk.ui.voices import CUES, PROMPTS, cue_path, make_voices, prompt_path

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing")
IDLE = screens.idle(full=False)


@needs_espeak
def test_voices_are_spoken_in_both_languages_and_rerun_only_redoes_changes(tmp_path: Path) -> None:
    made = make_voices(tmp_path)
    assert len(made.written) == len(CUES) + 2 * len(PROMPTS)
    for name in PROMPTS:
        for lang in ("id", "en"):
            with wave.open(str(prompt_path(tmp_path, lang, name))) as wav:  # type: ignore[arg-type]
                assert wav.getnframes() / wav.getframerate() > 0.5  # words, not silence
    again = make_voices(tmp_path)
    assert again.written == []


def test_the_four_cues_differ_in_rhythm_and_length(tmp_path: Path) -> None:
    from kiosk.ui.voices import write_cue

    lengths = set()
    for name, notes in CUES.items():
        write_cue(cue_path(tmp_path, name), notes)
        with wave.open(str(cue_path(tmp_path, name))) as wav:
            lengths.add(wav.getnframes())
    assert set(CUES) == {"read", "accepted", "refused", "too_hot"}
    assert len(lengths) == 4


def test_cues_follow_the_check_in() -> None:
    assert cue_for(IDLE, screens.measuring("c", present=False, attempt=1)) == "read"
    assert cue_for(IDLE, screens.checking_code()) == "read"
    assert cue_for(IDLE, screens.resting("c")) == "too_hot"
    refused = screens.already_claimed("c")
    assert cue_for(IDLE, refused) == "refused"
    assert prompt_for(refused) == "refused"
    assert prompt_for(screens.choose_service("c")) == "choose_service"
    assert prompt_for(IDLE) is None


class FakeSound:
    def __init__(self) -> None:
        self.volume = 1.0
        self.plays = 0

    def stop(self) -> None: ...

    def play(self) -> None:
        self.plays += 1


def test_a_missing_voice_is_a_logged_fault_and_the_kiosk_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sounds = Sounds(tmp_path, loader=lambda _p: FakeSound(), later=lambda f, _d: f())
    sounds.on_screen(IDLE, screens.resting("c"), "id")
    sounds.on_screen(IDLE, screens.resting("c"), "id")
    assert sounds.played == []
    assert "cue-too_hot.wav" in sounds.faults
    assert "id-resting.wav" in sounds.faults
    assert sum("kiosk voices" in r.getMessage() for r in caplog.records) == 2  # once per file


def test_no_audio_device_is_a_fault_too(tmp_path: Path) -> None:
    cue_path(tmp_path, "read").write_bytes(b"RIFF")
    sounds = Sounds(tmp_path, loader=lambda _p: None, later=lambda f, _d: f())
    assert not sounds.play(cue_path(tmp_path, "read"))
    assert "no audio device" in sounds.faults["cue-read.wav"]


def test_prompts_play_in_the_chosen_language_after_the_cue(tmp_path: Path) -> None:
    from kiosk.ui.voices import write_cue

    for name, notes in CUES.items():
        write_cue(cue_path(tmp_path, name), notes)
    write_cue(prompt_path(tmp_path, "en", "resting"), CUES["read"])
    delays: list[float] = []

    def later(function: Any, delay: float) -> None:
        delays.append(delay)
        function()

    made: dict[str, FakeSound] = {}
    sounds = Sounds(tmp_path, volume=0.3, loader=lambda p: made.setdefault(p, FakeSound()),
                    later=later)  # fmt: skip
    sounds.on_screen(IDLE, screens.resting("c"), "en")
    assert sounds.played == ["cue-too_hot.wav", "en-resting.wav"]
    assert delays and delays[0] > 0
    assert all(sound.volume == 0.3 for sound in made.values())


def test_silent_when_sound_is_off(tmp_path: Path) -> None:
    sounds = Sounds(tmp_path, enabled=False, loader=lambda _p: FakeSound())
    sounds.on_screen(IDLE, screens.resting("c"), "id")
    sounds.touched()
    assert sounds.played == [] and sounds.faults == {}


def test_kivy_plays_a_generated_cue_through_the_dummy_audio_driver(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from kiosk.ui.kivyenv import prepare\n"
        "prepare(offscreen=True, audio=False)\n"
        "from kiosk.ui.sound import Sounds\n"
        "from kiosk.ui.voices import CUES, cue_path, write_cue\n"
        f"d = Path({str(tmp_path)!r})\n"
        "write_cue(cue_path(d, 'accepted'), CUES['accepted'])\n"
        "s = Sounds(d, later=lambda f, _d: f())\n"
        "print(s.play(cue_path(d, 'accepted')), s.play(cue_path(d, 'refused')), sorted(s.faults))\n"
    )
    env = {**os.environ, "SDL_AUDIODRIVER": "dummy"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=env, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "True False ['cue-refused.wav']"


def test_phases_without_prompt_are_quiet() -> None:
    assert prompt_for(screens.measuring("c", present=True, attempt=1)) is None
    assert Phase.PRINTING.value == "printing"
