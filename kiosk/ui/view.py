"""What one touchscreen frame shows, decided without Kivy: engine `Screen` + language → `View`.

The Kivy widgets (`kiosk.ui.widgets`) only lay a `View` out; every decision about words, icons,
tones and touch targets is made here, so it is tested without a display and the gallery, the
app and the tests draw the same thing. The touchscreen's own states (the booking-code keypad, the
staff PIN, a QR seen but not read, a dead camera, the inactivity countdown) live in `Local`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from kiosk.bilingual import Lang
from kiosk.domain.screens import FULL, Phase, Screen
from kiosk.ui.texts import T
from kiosk.ui.theme import Tone
from uplink.booking.codes import ALPHABET, CODE_LENGTH, shown

Layout = Literal["welcome", "message", "choices", "keypad", "ticket", "scan"]
Style = Literal["primary", "secondary", "stop"]
Mode = Literal["engine", "keypad", "staff"]

# Glyphs of DejaVu Sans (bundled with Kivy): each icon stands next to words, never alone.
ICONS = {
    "qr": "▦",
    "keypad": "⌨",
    "walkin": "☺",
    "collective": "☻",
    "dropbox": "✉",
    "thermometer": "°C",
    "rest": "☕",
    "checking": "⚙",
    "printing": "⚙",
    "ticket": "✔",
    "refused": "✖",
    "used": "⊘",
    "branch": "⚑",
    "day": "☀",
    "referred": "⌂",
    "fault": "⚠",
    "phone": "☎",
    "staff": "⚒",
    "info": "ℹ",
    "JHT": "⛁",
    "JKK": "✚",
    "JKM": "❀",
    "JP": "☂",
}

# Refusal reasons grouped by the icon that explains them at a glance.
_REASON_ICONS = {
    "wrong_branch": "branch",
    "wrong_day": "day",
    "too_early": "day",
    "too_late": "day",
    "expired": "day",
    "not_yet_valid": "day",
    "already_checked_in": "used",
}


@dataclass(frozen=True)
class Action:
    """A touch target: `code` is what the app does with it (see `kiosk.ui.app`)."""

    code: str
    label: str
    hint: str = ""
    icon: str = ""
    style: Style = "primary"


@dataclass(frozen=True)
class Local:
    """The touchscreen's own state on top of the engine's screen.

    Attributes:
        mode: engine (show the engine's screen), keypad (typing a booking code) or staff (PIN).
        typed: characters typed on the keypad (code alphabet only) or PIN digits.
        staff_error: the last PIN was wrong.
        staff_checking: the PIN typed is being checked (off Kivy's thread; keys wait).
        seen_not_read: the camera sees a QR code it cannot read yet.
        camera_down: the camera delivers no frames.
        countdown_s: whole seconds until this screen returns to welcome (shown when set).
        rest_s: whole seconds of rest left (RESTING).
        reading_c: the live forehead reading, if the engine shares it.
    """

    mode: Mode = "engine"
    typed: str = ""
    staff_error: bool = False
    staff_checking: bool = False
    seen_not_read: bool = False
    camera_down: bool = False
    countdown_s: int | None = None
    rest_s: int | None = None
    reading_c: float | None = None


@dataclass(frozen=True)
class View:
    """Everything one frame shows. `name` is the gallery's screen name."""

    name: str
    layout: Layout
    tone: Tone
    icon: str
    title: str
    lines: tuple[str, ...] = ()
    next_step: str = ""
    number: str = ""
    banner: str = ""
    footnote: str = ""
    countdown: str = ""
    typed: str = ""
    actions: tuple[Action, ...] = ()
    keys: tuple[str, ...] = ()
    preview: bool = False
    lang_action: Action | None = None
    progress: str = ""
    track: str = ""  # a ticket on screen only: its tracking code, to write down too
    staff_note: str = ""  # for staff, both languages at once (the clock is not synchronised)
    stay: str = ""  # with the countdown on the keypads: any touch keeps them


def _countdown(local: Local, lang: Lang) -> str:
    if local.countdown_s is None:
        return ""
    return T["returning"].in_(lang).format(s=local.countdown_s)


def _stay(local: Local, lang: Lang) -> str:
    """Left alone while typing: how to stay (any touch on the screen)."""
    if local.countdown_s is None or local.mode not in ("keypad", "staff"):
        return ""
    return T["touch_to_stay"].in_(lang)


def _lang_action(lang: Lang) -> Action:
    return Action("lang", T["lang"].in_(lang), style="secondary")


def view_of(screen: Screen, lang: Lang, local: Local | None = None) -> View:
    """The frame for the engine's `screen` in `lang`, with the touchscreen's `local` state."""
    local = local or Local()
    if local.mode == "keypad":
        return _keypad(lang, local)
    if local.mode == "staff":
        return _staff(lang, local)
    return _for_staff(_engine_view(screen, lang, local), screen)


def _for_staff(view: View, screen: Screen) -> View:
    """The staff's notice on the participant's screen: small, in both languages at once."""
    if not screen.clock_unsynced:
        return view
    note = T["clock_staff"]
    return replace(view, staff_note=f"{note.in_('id')} / {note.in_('en')}")


def _engine_view(screen: Screen, lang: Lang, local: Local) -> View:
    phase = screen.phase
    if phase is Phase.IDLE:
        if local.camera_down:
            return _camera_down(screen, lang, local)
        if local.seen_not_read:
            return _scanning(lang, local)
        return _welcome(screen, lang, local)
    builders = {
        Phase.CHOOSE_SERVICE: _choose,
        Phase.CHECKING: _checking,
        Phase.MEASURING: _measuring,
        Phase.RESTING: _resting,
        Phase.PRINTING: _printing,
        Phase.TICKET: _ticket,
        Phase.REFERRED: _referred,
        Phase.OUT_OF_SERVICE: _out_of_service,
        Phase.REFUSED: _refused,
    }
    return builders[phase](screen, lang, local)


def _view(name: str, layout: Layout, tone: Tone, icon: str, title: str, lang: Lang,
          local: Local, *, timed: bool = True, **fields: Any) -> View:  # fmt: skip
    """A view with what every screen shares: the language button (unless given) and, when
    `timed`, the countdown back to the welcome screen."""
    fields.setdefault("lang_action", _lang_action(lang))
    if timed:
        fields.setdefault("countdown", _countdown(local, lang))
        fields.setdefault("stay", _stay(local, lang))
    return View(name, layout, tone, ICONS[icon], title, **fields)


def _banner(screen: Screen, lang: Lang) -> str:
    return T["wait_outside"].in_(lang) if screen.wait_outside else ""


def _cancel(lang: Lang) -> tuple[Action, ...]:
    return (Action("cancel", T["cancel"].in_(lang), style="secondary"),)


def _done(lang: Lang) -> tuple[Action, ...]:
    return (Action("done", T["done"].in_(lang), style="secondary"),)


_CHANNEL_ICONS = {"online": "info", "dropbox": "dropbox", "175": "phone"}


def _channels(lang: Lang, *names: str) -> tuple[str, ...]:
    """The ways that work without this kiosk, in the order that suits the screen."""
    return tuple(f"{ICONS[_CHANNEL_ICONS[n]]} {T[f'works_{n}'].in_(lang)}" for n in names)


def _welcome(screen: Screen, lang: Lang, local: Local) -> View:
    return _view(
        "welcome", "welcome", "info", "qr", T["show_qr"].in_(lang), lang, local,
        timed=False,
        next_step=T["dropbox"].in_(lang),
        banner=_banner(screen, lang),
        footnote="\n".join(note.in_(lang) for note in screen.body[2:] if note != FULL),
        actions=(
            Action("keypad", T["type_code"].in_(lang), T["type_code_hint"].in_(lang),
                   ICONS["keypad"], "secondary"),
            Action("walkin", T["walkin"].in_(lang), T["walkin_hint"].in_(lang), ICONS["walkin"]),
        ),
        preview=True,
    )  # fmt: skip


def _scanning(lang: Lang, local: Local) -> View:
    return _view(
        "scanning", "scan", "info", "qr", T["scanning"].in_(lang), lang, local,
        timed=False, lines=(T["hold_still"].in_(lang),), preview=True,
    )  # fmt: skip


def _camera_down(screen: Screen, lang: Lang, local: Local) -> View:
    """The welcome screen without the camera: typing a code and walking in still work.

    Typing the booking code is now the way in for everyone who booked (most people), so it is
    a main button like NO BOOKING; the staff's button carries its icon as on out of service."""
    welcome = _welcome(screen, lang, local)
    actions = tuple(
        replace(a, style="primary") if a.code == "keypad" else a for a in welcome.actions
    )
    staff = Action("staff", T["staff"].in_(lang), icon=ICONS["staff"], style="secondary")
    return replace(
        welcome,
        name="camera_fault",
        tone="warn",
        icon=ICONS["fault"],
        title=T["camera_title"].in_(lang),
        lines=(T["camera_body"].in_(lang),),
        actions=(*actions, staff),
        preview=False,
    )


def _keypad(lang: Lang, local: Local) -> View:
    places = local.typed + "_" * (CODE_LENGTH - len(local.typed))
    # in threes as the printed code, the empty places too: the field is as wide at every
    # character typed (the title beside it does not wrap anew)
    slots = "-".join(places[i : i + 3] for i in range(0, len(places), 3))
    ok_style: Style = "primary" if len(local.typed) == CODE_LENGTH else "secondary"
    return _view(
        "keypad", "keypad", "info", "keypad", T["keypad_title"].in_(lang), lang, local,
        lines=(T["keypad_hint"].in_(lang),),
        typed=slots,
        keys=tuple(ALPHABET),
        actions=(
            *_cancel(lang),
            Action("clear", T["clear"].in_(lang), style="secondary"),
            Action("back", T["back"].in_(lang), style="secondary"),
            Action("ok", T["ok"].in_(lang), style=ok_style),
        ),
    )  # fmt: skip


def _staff(lang: Lang, local: Local) -> View:
    return _view(
        "staff_pin", "keypad", "warn", "staff", T["staff_title"].in_(lang), lang, local,
        lines=_staff_lines(lang, local),
        typed="●" * len(local.typed) or "_",
        keys=tuple("1234567890"),
        actions=(
            *_cancel(lang),
            Action("clear", T["clear"].in_(lang), style="secondary"),
            Action("ok", T["ok"].in_(lang)),
        ),
        lang_action=None,
    )  # fmt: skip


def _staff_lines(lang: Lang, local: Local) -> tuple[str, ...]:
    if local.staff_checking:
        return (T["staff_checking"].in_(lang),)
    return (T["staff_wrong"].in_(lang),) if local.staff_error else ()


def _choose(screen: Screen, lang: Lang, local: Local) -> View:
    return _view(
        "choose_service", "choices", "info", "walkin", screen.title.in_(lang), lang, local,
        actions=(
            *(
                Action(
                    f"service:{option.code}",
                    f"{option.code}  {option.label.in_(lang)}",
                    T[f"{option.code}_hint"].in_(lang) if f"{option.code}_hint" in T else "",
                    ICONS.get(option.code, ""),
                )
                for option in screen.options
            ),
            *_cancel(lang),
        ),
    )  # fmt: skip


def _message(name: str, tone: Tone, icon: str, screen: Screen, lang: Lang, local: Local) -> View:
    return _view(
        name, "message", tone, icon, screen.title.in_(lang), lang, local,
        lines=screen.lines(lang),
        next_step=screen.next_step.in_(lang),
    )  # fmt: skip


def _checking(screen: Screen, lang: Lang, local: Local) -> View:
    return _message("checking", "info", "checking", screen, lang, local)


def _measuring(screen: Screen, lang: Lang, local: Local) -> View:
    if screen.party is not None:
        return _collective(screen, lang, local)
    view = _message("temperature", "info", "thermometer", screen, lang, local)
    lines = view.lines
    if local.reading_c is not None and screen.present:
        reading = T["temperature_reading"].in_(lang).format(c=_celsius(local.reading_c, lang))
        lines = (*lines, reading)
    return replace(view, lines=lines, actions=_cancel(lang), progress=_progress(screen))


def _celsius(value: float, lang: Lang) -> str:
    """A temperature as its reader writes it: 36,4 °C in Bahasa Indonesia (a decimal comma;
    36.4 reads as thirty-six thousand four hundred there), 36.4 °C in English."""
    text = f"{value:.1f}"
    return f"{text.replace('.', ',') if lang == 'id' else text} °C"


def _collective(screen: Screen, lang: Lang, local: Local) -> View:
    """A collective booking (an employer's HR person checks in a group): who and how many."""
    assert screen.party is not None  # noqa: S101 - checked by the caller
    company, size = screen.party
    return _view(
        "collective", "message", "info", "collective", T["collective_title"].in_(lang), lang,
        local,
        timed=False,
        lines=(
            T["collective_company"].in_(lang).format(name=company),
            T["collective_party"].in_(lang).format(n=size),
            screen.title.in_(lang),
        ),
        next_step=screen.next_step.in_(lang),
        actions=_cancel(lang),
        progress=_progress(screen),
    )  # fmt: skip


def _progress(screen: Screen) -> str:
    """Where the measurement stands, in steps a participant can see (no colour needed)."""
    steps = 2 if screen.attempt > 1 else 1
    return f"{'●' * (steps + int(screen.present))}{'○' * (3 - steps - int(screen.present))}"


def _resting(screen: Screen, lang: Lang, local: Local) -> View:
    view = _message("resting", "warn", "rest", screen, lang, local)
    if local.rest_s is None:
        return view
    return replace(
        view,
        countdown="",
        number=str(local.rest_s),
        next_step=T["resting_countdown"].in_(lang).format(s=local.rest_s),
    )


def _printing(screen: Screen, lang: Lang, local: Local) -> View:
    return _view(
        "printing", "ticket", "ok", "printing", screen.title.in_(lang), lang, local,
        timed=False,
        lines=(screen.next_step.in_(lang),),
        number=screen.number,
        banner=_banner(screen, lang),
    )  # fmt: skip


def _ticket(screen: Screen, lang: Lang, local: Local) -> View:
    facts = screen.ticket
    lines: list[str] = []
    printed = facts is None or facts.printed
    if facts is not None:
        lines.append(f"{facts.service}: {facts.service_name.in_(lang)}")
        if facts.people_ahead is not None:
            lines.append(T["people_ahead"].in_(lang).format(n=facts.people_ahead))
        lines.extend(note.in_(lang) for note in facts.notes)
    track = ""
    if facts is not None and not printed and facts.track_ref:
        track = T["write_track"].in_(lang).format(code=shown(facts.track_ref))
    lines.append(T["printed" if printed else "write_down"].in_(lang))
    return _view(
        "ticket" if printed else "ticket_unprinted", "ticket", "ok" if printed else "warn",
        "ticket" if printed else "fault", screen.title.in_(lang), lang, local,
        lines=tuple(lines),
        number=screen.number,
        track=track,
        banner=_banner(screen, lang),
        actions=_done(lang),
    )  # fmt: skip


def _refused(screen: Screen, lang: Lang, local: Local) -> View:
    view = _message("refused", "stop", "refused", screen, lang, local)
    lines = view.lines
    if screen.number:  # "already checked in" with this kiosk's number: the number is drawn large
        lines = tuple(line for line in lines if screen.number not in line)
    return replace(
        view,
        icon=ICONS[_REASON_ICONS.get(screen.reason.split(":")[0], "refused")],
        lines=lines,
        number=screen.number,
        actions=_done(lang),
    )


def _referred(screen: Screen, lang: Lang, local: Local) -> View:
    """No ticket today. The slip carries the full steps; the screen says them briefly."""
    return _view(
        "referred", "message", "stop", "referred", screen.title.in_(lang), lang, local,
        lines=(T["referred_body"].in_(lang), *_channels(lang, "online", "dropbox", "175")),
        next_step=T["take_slip"].in_(lang),
        actions=_done(lang),
    )  # fmt: skip


def _out_of_service(screen: Screen, lang: Lang, local: Local) -> View:
    """What still works comes first: the dropbox by the door, then online and the phone."""
    return _view(
        "out_of_service", "message", "stop", "fault", screen.title.in_(lang), lang, local,
        timed=False,
        lines=(
            *screen.lines(lang),
            T["still_works"].in_(lang),
            *_channels(lang, "dropbox", "online", "175"),
        ),
        actions=(Action("staff", T["staff"].in_(lang), icon=ICONS["staff"], style="secondary"),),
    )  # fmt: skip
