"""The touchscreen's commands: `kiosk ui gallery`, `kiosk voices`, `kiosk hash-pin`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED = 0, 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the touchscreen's subcommands to the `kiosk` parser."""
    ui = sub.add_parser("ui", help="the touchscreen (Kivy)")
    ui_sub = ui.add_subparsers(dest="ui_command", required=True)
    gallery = ui_sub.add_parser(
        "gallery",
        help="draw every screen in both languages at 800x480 and 1080x1920 to PNG files",
        description="Renders offscreen (no display needed) into OUT/{resolution}-{lang}-"
        "{screen}.png. Exit code 1 when a text does not fit its place or a touch target is "
        "smaller than 72 dp either way.",
    )
    gallery.add_argument("--out", required=True, type=Path, help="output folder (created)")
    gallery.add_argument(
        "--screen", action="append", default=[], metavar="NAME", help="only this screen"
    )
    gallery.set_defaults(func=_gallery)

    voices = sub.add_parser(
        "voices",
        help="generate the spoken prompts (espeak-ng, Bahasa Indonesia and English) and sound "
        "cues as WAV files; rerun when texts change",
    )
    voices.add_argument("--config", type=Path, help="kiosk TOML file (its [ui.sound] voices_dir)")
    voices.add_argument("--out", type=Path, help="output folder (instead of the config's)")
    voices.add_argument("--force", action="store_true", help="regenerate every file")
    voices.set_defaults(func=_voices)

    pin = sub.add_parser(
        "hash-pin",
        help="hash the staff recovery PIN for [ui] staff_pin_hash (the PIN is never stored)",
        description="Asks for the PIN twice without echo (or reads one line with --stdin) and "
        "prints its salted PBKDF2 hash, for ui.staff_pin_hash in the kiosk config.",
    )
    pin.add_argument("--stdin", action="store_true", help="read the PIN from standard input")
    pin.set_defaults(func=_hash_pin)


def _hash_pin(args: argparse.Namespace) -> int:
    from configkit.hashed import ask_secret, hash_secret

    pin = ask_secret(from_stdin=args.stdin, prompt="PIN petugas / staff PIN (4-8 digits): ")
    if pin is None:
        return 2
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        print(
            "kiosk hash-pin: the PIN is 4-8 digits (the PIN pad has digits only)", file=sys.stderr
        )
        return 2
    print(hash_secret(pin))
    return EXIT_OK


def _voices(args: argparse.Namespace) -> int:
    from configkit import load
    from kiosk.config import KioskConfig
    from kiosk.ui.voices import VoiceError, make_voices

    if args.out is not None:
        directory = args.out
    elif args.config is not None:
        directory = load(KioskConfig, args.config).ui.sound.voices_dir
    else:
        print("kiosk voices: give --config FILE or --out DIR", file=sys.stderr)
        return 2
    try:
        made = make_voices(directory, force=args.force)
    except (VoiceError, OSError) as exc:
        print(f"kiosk voices: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"{len(made.written)} files written, {len(made.unchanged)} unchanged in {directory}",
        file=sys.stderr,
    )
    return EXIT_OK


def kivy_missing() -> str | None:
    """Why Kivy cannot be used here (one line saying how to fix it), or None."""
    import importlib.util

    try:  # found, not imported: importing Kivy would parse this command's arguments
        found = importlib.util.find_spec("kivy") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        return (
            "the touchscreen needs Kivy: pip install 'lapak-asik-appliance[ui]' "
            "(scripts/setup.sh installs it)"
        )
    return None


def _gallery(args: argparse.Namespace) -> int:
    from kiosk.ui.kivyenv import prepare

    prepare(offscreen=True, audio=False)
    problem = kivy_missing()
    if problem is not None:
        print(f"kiosk ui gallery: {problem}", file=sys.stderr)
        return 2
    from kiosk.ui.gallery import render
    from kiosk.ui.samples import samples

    unknown = sorted(set(args.screen) - set(samples()))
    if unknown:
        names = ", ".join(samples())
        print(
            f"kiosk ui gallery: unknown screen {', '.join(unknown)}; choose from {names}",
            file=sys.stderr,
        )
        return 2
    count = 0
    overflowing = []
    small = []
    for _path, overflows, targets in render(args.out, names=args.screen or None):
        count += 1
        overflowing.extend(overflows)
        small.extend(targets)
    for overflow in overflowing:
        print(f"kiosk ui gallery: text does not fit: {overflow}", file=sys.stderr)
    for target in small:
        print(f"kiosk ui gallery: {target}", file=sys.stderr)
    print(f"{count} screens drawn in {args.out}", file=sys.stderr)
    return EXIT_FAILED if overflowing or small else EXIT_OK
