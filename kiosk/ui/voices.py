"""`kiosk voices`: spoken prompts (espeak-ng, offline) and sound cues as WAV files, made at set-up.

Prompts are generated with espeak-ng's Indonesian voice (``-v id``) and its English voice; cues
("read", "accepted", "refused", "too hot") are short tone patterns written with the standard
library, so they differ in rhythm and pitch, not only in loudness. A manifest records the text of
each file: rerunning the command after a text changed regenerates only what changed.
No Kivy here: the files are played by `kiosk.ui.sound`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import struct
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

from kiosk.bilingual import LANGS, Bilingual, Lang
from kiosk.errors import KioskError

logger = logging.getLogger(__name__)

RATE = 22050
VOICES: dict[Lang, str] = {"id": "id", "en": "en"}
MANIFEST = "voices.json"

PROMPTS: dict[str, Bilingual] = {
    "welcome": Bilingual(
        "Selamat datang. Tunjukkan kode QR booking Anda ke kamera, atau tekan tanpa booking.",
        "Welcome. Show your booking QR code to the camera, or press no booking.",
    ),
    "keypad": Bilingual("Ketik kode booking Anda.", "Type your booking code."),
    "checking": Bilingual("Mohon tunggu, kode Anda sedang diperiksa.", "Please wait."),
    "choose_service": Bilingual("Pilih layanan klaim Anda.", "Choose your claim."),
    "temperature": Bilingual(
        "Dekatkan dahi Anda ke sensor suhu.", "Bring your forehead to the sensor."
    ),
    "resting": Bilingual(
        "Suhu Anda sedikit tinggi. Silakan duduk dan istirahat sebentar.",
        "Your temperature is a little high. Please sit and rest for a moment.",
    ),
    "printing": Bilingual("Tiket Anda sedang dicetak.", "Printing your ticket."),
    "ticket": Bilingual(
        "Silakan ambil tiket antrean Anda di bawah layar.",
        "Please take your queue ticket below the screen.",
    ),
    "ticket_unprinted": Bilingual(
        "Printer kehabisan kertas. Catat nomor antrean di layar.",
        "The printer is out of paper. Write down the number on the screen.",
    ),
    "refused": Bilingual(
        "Mohon maaf, booking ini tidak dapat digunakan. Baca petunjuk di layar.",
        "Sorry, this booking cannot be used. Please read the screen.",
    ),
    "referred": Bilingual(
        "Mohon maaf, suhu Anda di atas batas. Ambil slip petunjuk di bawah layar.",
        "Sorry, your temperature is above the limit. Take the slip below the screen.",
    ),
    "out_of_service": Bilingual(
        "Kios sedang tidak dapat melayani. Silakan menghubungi petugas.",
        "This kiosk is out of service. Please see an officer.",
    ),
}

# Cue name → (frequency Hz, duration s) notes; silence is frequency 0.
CUES: dict[str, tuple[tuple[float, float], ...]] = {
    "read": ((1320.0, 0.09),),
    "accepted": ((880.0, 0.12), (0.0, 0.03), (1320.0, 0.18)),
    "refused": ((440.0, 0.18), (0.0, 0.04), (330.0, 0.3)),
    "too_hot": ((988.0, 0.08), (0.0, 0.06), (988.0, 0.08), (0.0, 0.06), (988.0, 0.08)),
}


class VoiceError(KioskError, RuntimeError):
    """espeak-ng is missing or failed; the message says how to fix it."""


@dataclass(frozen=True)
class Made:
    """What `make_voices` did."""

    written: list[Path]
    unchanged: list[Path]


def prompt_path(directory: Path, lang: Lang, name: str) -> Path:
    return directory / f"{lang}-{name}.wav"


def cue_path(directory: Path, name: str) -> Path:
    return directory / f"cue-{name}.wav"


def write_cue(path: Path, notes: tuple[tuple[float, float], ...], volume: float = 0.5) -> None:
    """A cue as 16-bit mono PCM: sine notes with 5 ms fades (no clicks)."""
    frames = bytearray()
    fade = int(RATE * 0.005)
    for freq, seconds in notes:
        count = int(RATE * seconds)
        for i in range(count):
            envelope = min(1.0, i / fade, (count - i) / fade) if freq else 0.0
            value = volume * envelope * math.sin(2 * math.pi * freq * i / RATE)
            frames += struct.pack("<h", int(value * 32767))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))


def espeak() -> str:
    """The espeak-ng program.

    Raises:
        VoiceError: it is not installed.
    """
    found = shutil.which("espeak-ng")
    if found is None:
        raise VoiceError("espeak-ng is not installed: apt-get install espeak-ng (setup.sh does)")
    return found


def speak_to(path: Path, text: str, lang: Lang, *, program: str) -> None:
    """Write `text` spoken in `lang` to the WAV file `path`."""
    done = subprocess.run(
        [program, "-v", VOICES[lang], "-s", "150", "-w", str(path), text],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    if done.returncode != 0 or not path.is_file():
        raise VoiceError(f"espeak-ng -v {VOICES[lang]} failed: {done.stderr.strip()[:200]}")


def make_voices(directory: Path, *, force: bool = False) -> Made:
    """Generate every prompt in both languages and every cue into `directory`.

    Raises:
        VoiceError: espeak-ng is missing or a prompt could not be spoken.
    """
    directory.mkdir(parents=True, exist_ok=True)
    manifest_file = directory / MANIFEST
    try:
        manifest: dict[str, str] = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    wanted: dict[str, str] = {}
    written: list[Path] = []
    unchanged: list[Path] = []
    program = espeak()
    for name, notes in CUES.items():
        path = cue_path(directory, name)
        wanted[path.name] = _digest(repr(notes))
        if force or manifest.get(path.name) != wanted[path.name] or not path.is_file():
            write_cue(path, notes)
            written.append(path)
        else:
            unchanged.append(path)
    for name, text in PROMPTS.items():
        for lang in LANGS:
            path = prompt_path(directory, lang, name)
            wanted[path.name] = _digest(f"{VOICES[lang]}:{text.in_(lang)}")
            if force or manifest.get(path.name) != wanted[path.name] or not path.is_file():
                speak_to(path, text.in_(lang), lang, program=program)
                written.append(path)
            else:
                unchanged.append(path)
    manifest_file.write_text(json.dumps(wanted, indent=1, sort_keys=True), encoding="utf-8")
    return Made(written, unchanged)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
