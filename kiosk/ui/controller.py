"""The touchscreen's decisions without Kivy: touches in, engine intents and `View`s out.

It holds what the engine does not know: the language, the booking-code keypad, the staff PIN,
the inactivity countdown. Time is injected (`now` is the engine clock's monotonic seconds), so
the same controller runs under Kivy, in the gallery and in tests on a manual clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from configkit.hashed import verify_secret
from kiosk.bilingual import Bilingual, Lang
from kiosk.domain.screens import Phase, Screen
from kiosk.ui.view import Local, View, view_of
from uplink.booking.codes import ALPHABET, CODE_LENGTH
from uplink.booking.model import Service, parse_service

logger = logging.getLogger(__name__)

PinCheck = Callable[[str, str, Callable[[bool], None]], None]
"""Checks a typed PIN against its hash and calls back with the answer: ``check(pin, hash,
done)``. The app runs it off Kivy's thread (PBKDF2 at the configured iterations takes a second
or more on a Pi) and calls `done` back on it."""


def check_inline(pin: str, hashed: str, done: Callable[[bool], None]) -> None:
    """A `PinCheck` that answers at once (tests, the controller on its own)."""
    done(verify_secret(pin, hashed))


# Engine phases whose deadline is shown as "back to the start in N s" all along.
_RESULT_PHASES = frozenset({Phase.TICKET, Phase.REFUSED, Phase.REFERRED})
PIN_MAX = 8


class Intents(Protocol):
    """What the touchscreen may ask of the engine (`kiosk.engine.CheckinEngine`'s intents)."""

    def enter_code(self, code: str) -> None: ...

    def start_walkin(self) -> None: ...

    def choose_service(self, service: Service) -> None: ...

    def cancel(self) -> None: ...


@dataclass(frozen=True)
class Timing:
    """Inactivity on the touchscreen's own screens.

    Attributes:
        inactivity_s: the keypad, the PIN pad or English on the welcome screen go back to the
            welcome screen (in Bahasa Indonesia) after this long without a touch.
        countdown_s: the countdown is shown for this long before that happens (and before an
            engine screen with a deadline, e.g. the service choice, times out).
    """

    inactivity_s: float = 30.0
    countdown_s: float = 10.0


class Controller:
    """One kiosk's touchscreen state.

    Args:
        intents: the engine (or a fake recording the calls).
        timing: inactivity rules.
        staff_pin_hash: the hash (`configkit.hashed`) of the PIN that opens recovery on the
            out-of-service screen ("" = no PIN pad).
        recover: called when an officer entered the right PIN (clear faults, reopen devices).
        check_pin: how a typed PIN is checked (default: at once, on the caller's thread).
    """

    def __init__(
        self,
        intents: Intents,
        *,
        timing: Timing | None = None,
        staff_pin_hash: str = "",
        recover: Callable[[], None] | None = None,
        check_pin: PinCheck = check_inline,
    ) -> None:
        self.intents = intents
        self._check_pin = check_pin
        self._pin_tries = 0  # PINs sent to be checked (an answer names its try)
        self.timing = timing or Timing()
        self._pin_hash = staff_pin_hash
        self._recover = recover
        self.lang: Lang = "id"
        self.screen = Screen(phase=Phase.IDLE, title=Bilingual("", ""), next_step=Bilingual("", ""))
        self.local = Local()
        self._last_touch = 0.0
        self._now = 0.0

    # -- inputs ---------------------------------------------------------------------------------

    def show(self, screen: Screen, now: float) -> None:
        """The engine published `screen` (at `now`, monotonic seconds on the engine's clock)."""
        previous = self.screen.phase
        self.screen = screen
        self._now = now
        if screen.phase is not Phase.IDLE and self.local.mode == "keypad":
            self.local = replace(self.local, mode="engine", typed="")
        if screen.phase is not Phase.MEASURING:
            self.local = replace(self.local, reading_c=None)
        if screen.phase is Phase.IDLE and previous is not Phase.IDLE:
            self.lang = "id"  # back to Bahasa Indonesia at the welcome screen
            self._last_touch = now
        if screen.phase is not Phase.OUT_OF_SERVICE and self.local.mode == "staff":
            if not self.local.camera_down:
                self.local = replace(
                    self.local, mode="engine", typed="", staff_error=False, staff_checking=False
                )
        self._update_countdown(now)

    def set_camera(self, *, down: bool | None = None, seen_not_read: bool | None = None) -> bool:
        """What the bridge sees of the camera; True when the view changed."""
        before = self.local
        if down is not None:
            self.local = replace(self.local, camera_down=down)
        if seen_not_read is not None:
            self.local = replace(self.local, seen_not_read=seen_not_read)
        return self.local != before

    def set_reading(self, celsius: float | None) -> None:
        """The live forehead reading, when the thermometer shares it."""
        self.local = replace(self.local, reading_c=celsius)

    def touch(self, code: str, now: float) -> None:
        """A touch target was pressed (`Action.code`, or ``key:X`` on a keypad; ``stay``: the
        screen beside them)."""
        self._last_touch = now
        self._now = now
        logger.debug("touch %s", code)
        if code == "stay":  # a touch anywhere: only the inactivity timer starts again
            pass
        elif code == "lang":
            self.lang = "en" if self.lang == "id" else "id"
        elif code == "keypad":
            self.local = replace(self.local, mode="keypad", typed="")
        elif code == "walkin":
            self.intents.start_walkin()
        elif code.startswith("service:"):
            self.intents.choose_service(parse_service(code.split(":", 1)[1]))
        elif code == "staff":
            self.local = replace(
                self.local, mode="staff", typed="", staff_error=False, staff_checking=False
            )
        elif code.startswith("key:"):
            self._key(code[4:])
        elif code == "clear":
            if not self.local.staff_checking:
                self.local = replace(self.local, typed="", staff_error=False)
        elif code == "back":
            if not self.local.staff_checking:
                self.local = replace(self.local, typed=self.local.typed[:-1])
        elif code == "ok":
            self._submit()
        elif code in ("cancel", "done"):
            self._cancel()
        else:
            logger.warning("unknown touch target %r", code)
        self._update_countdown(now)

    def tick(self, now: float) -> bool:
        """Advance timers; True when the view changed (the countdown or a timeout)."""
        before = (self.local, self.lang)
        self._now = now
        idle_for = now - self._last_touch
        if self.local.mode in ("keypad", "staff") and idle_for >= self.timing.inactivity_s:
            self._cancel()
        elif (
            self.screen.phase is Phase.IDLE
            and self.lang != "id"
            and idle_for >= self.timing.inactivity_s
        ):
            self.lang = "id"
        self._update_countdown(now)
        return (self.local, self.lang) != before

    def opens_with(self, pin: str) -> bool:
        """Whether `pin` is the staff PIN (the simulation panel shows the simulated kiosk's PIN
        only when it is: never a PIN that does not work, never one on a configured kiosk)."""
        return bool(self._pin_hash and pin) and verify_secret(pin, self._pin_hash)

    # -- output ---------------------------------------------------------------------------------

    def view(self) -> View:
        """What to draw now."""
        return view_of(self.screen, self.lang, self.local)

    # -- internals ------------------------------------------------------------------------------

    def _key(self, key: str) -> None:
        if self.local.mode == "keypad":
            if key in ALPHABET and len(self.local.typed) < CODE_LENGTH:
                self.local = replace(self.local, typed=self.local.typed + key)
        elif (
            self.local.mode == "staff"
            and not self.local.staff_checking
            and key.isdigit()
            and len(self.local.typed) < PIN_MAX
        ):
            self.local = replace(self.local, typed=self.local.typed + key, staff_error=False)

    def _submit(self) -> None:
        if self.local.mode == "keypad":
            if len(self.local.typed) != CODE_LENGTH:
                return
            code = self.local.typed
            self.local = replace(self.local, mode="engine", typed="")
            self.intents.enter_code(code)
        elif self.local.mode == "staff" and not self.local.staff_checking:
            typed = self.local.typed
            if not (self._pin_hash and typed):
                self._pin_checked(False)
                return
            self.local = replace(self.local, staff_checking=True, staff_error=False)
            self._pin_tries += 1
            attempt = self._pin_tries
            self._check_pin(typed, self._pin_hash, lambda ok: self._pin_answer(attempt, ok))

    def _pin_answer(self, attempt: int, ok: bool) -> None:
        """The check's answer (on the thread that calls `touch`: the app calls back on Kivy's).
        Dropped unless it answers the try the PIN pad still waits for (left meanwhile by cancel
        or inactivity, or opened again)."""
        if attempt == self._pin_tries and self.local.mode == "staff" and self.local.staff_checking:
            self._pin_checked(ok)

    def _pin_checked(self, ok: bool) -> None:
        if not ok:
            logger.warning("wrong staff PIN entered at the kiosk")
            self.local = replace(self.local, typed="", staff_error=True, staff_checking=False)
            return
        logger.info("staff recovery requested at the kiosk")
        self.local = replace(
            self.local, mode="engine", typed="", staff_error=False, staff_checking=False
        )
        if self._recover is not None:
            self._recover()

    def _cancel(self) -> None:
        mode = self.local.mode
        self.local = replace(
            self.local, mode="engine", typed="", staff_error=False, staff_checking=False
        )
        if mode == "engine" and self.screen.phase is not Phase.IDLE:
            self.intents.cancel()
        if mode == "keypad" or self.screen.phase is Phase.IDLE:
            self.lang = "id"

    def _update_countdown(self, now: float) -> None:
        seconds: float | None = None
        rest: int | None = None
        if self.local.mode in ("keypad", "staff"):
            left = self.timing.inactivity_s - (now - self._last_touch)
            if left <= self.timing.countdown_s:
                seconds = left
        elif self.screen.deadline is not None:
            left = self.screen.deadline - now
            phase = self.screen.phase
            if phase is Phase.RESTING:
                rest = max(0, int(left + 0.999))
            elif phase in _RESULT_PHASES or left <= self.timing.countdown_s:
                seconds = left
        countdown = None if seconds is None else max(0, int(seconds + 0.999))
        if countdown != self.local.countdown_s or rest != self.local.rest_s:
            self.local = replace(self.local, countdown_s=countdown, rest_s=rest)
