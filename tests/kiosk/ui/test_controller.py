"""The touchscreen's decisions without Kivy: keypad, language, staff PIN, inactivity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from configkit.hashed import hash_secret, verify_secret
from kiosk.domain import screens
from kiosk.domain.screens import Phase
from kiosk.ui.controller import Controller, Timing
from kiosk.ui.samples import samples
from kiosk.ui.view import view_of
from uplink.booking.codes import ALPHABET
from uplink.booking.model import Service

IDLE = screens.idle(full=False)


@dataclass
class Intents:
    calls: list[tuple[str, str]] = field(default_factory=list)

    def enter_code(self, code: str) -> None:
        self.calls.append(("enter_code", code))

    def start_walkin(self) -> None:
        self.calls.append(("start_walkin", ""))

    def choose_service(self, service: Service) -> None:
        self.calls.append(("choose_service", service))

    def cancel(self) -> None:
        self.calls.append(("cancel", ""))


def controller(**kwargs: object) -> tuple[Controller, Intents]:
    intents = Intents()
    made = Controller(intents, timing=Timing(inactivity_s=30, countdown_s=10), **kwargs)  # type: ignore[arg-type]
    made.show(IDLE, 0.0)
    return made, intents


def test_the_keypad_takes_only_the_code_alphabet_and_sends_a_full_code() -> None:
    ui, intents = controller()
    ui.touch("keypad", 1.0)
    view = ui.view()
    assert view.name == "keypad"
    assert set(view.keys) == set(ALPHABET)
    assert not {"I", "L", "O", "U"} & set(view.keys)
    for key in "7K3QX9M2A":
        ui.touch(f"key:{key}", 2.0)
    ui.touch("key:B", 2.0)  # a tenth character is not taken
    assert ui.view().typed == "7K3-QX9-M2A"
    ui.touch("back", 3.0)
    ui.touch("key:A", 3.0)
    ui.touch("ok", 4.0)
    assert intents.calls == [("enter_code", "7K3QX9M2A")]
    assert ui.view().name == "welcome"


def test_check_is_ignored_until_the_code_is_complete_and_clear_empties_it() -> None:
    ui, intents = controller()
    ui.touch("keypad", 1.0)
    ui.touch("key:7", 1.0)
    ui.touch("ok", 1.0)
    assert intents.calls == []
    ui.touch("clear", 1.0)
    assert ui.view().typed == "___-___-___"


def test_the_typed_code_keeps_its_places_in_threes_and_check_stands_out_when_complete() -> None:
    """GIVEN the keypad WHEN a code is typed character by character THEN the field shows the
    nine places in threes at every step (always as wide: the title beside it keeps its lines),
    and CHECK becomes the main button only once the code is complete."""
    ui, _intents = controller()
    ui.touch("keypad", 1.0)
    shown = [ui.view().typed]
    styles = [{a.code: a.style for a in ui.view().actions}["ok"]]
    for key in "7K3QX9M2A":
        ui.touch(f"key:{key}", 2.0)
        shown.append(ui.view().typed)
        styles.append({a.code: a.style for a in ui.view().actions}["ok"])
    assert shown[0] == "___-___-___" and shown[5] == "7K3-QX_-___" and shown[9] == "7K3-QX9-M2A"
    assert {len(text) for text in shown} == {11}
    assert styles == ["secondary"] * 9 + ["primary"]


def test_english_is_one_tap_away_and_bahasa_returns_at_the_welcome_screen() -> None:
    ui, intents = controller()
    assert ui.view().title.startswith("Tunjukkan")
    ui.touch("lang", 1.0)
    assert ui.view().title.startswith("Show")
    ui.touch("walkin", 2.0)
    ui.show(screens.choose_service("c1"), 2.0)
    assert ui.view().title == "Choose your claim"  # English stays for the whole check-in
    ui.show(IDLE, 40.0)
    assert ui.lang == "id"
    assert intents.calls == [("start_walkin", "")]


def test_english_left_on_the_welcome_screen_falls_back_to_bahasa_after_inactivity() -> None:
    ui, _ = controller()
    ui.touch("lang", 1.0)
    assert not ui.tick(20.0)
    assert ui.tick(31.0)
    assert ui.lang == "id"


def test_the_keypad_counts_down_then_returns_to_welcome() -> None:
    ui, _ = controller()
    ui.touch("keypad", 0.0)
    ui.tick(15.0)
    assert ui.view().countdown == ""
    ui.tick(22.2)
    # left alone while typing: it says how to stay
    assert ui.view().countdown == "Kembali ke awal dalam 8 detik"
    assert ui.view().stay == "Sentuh layar untuk lanjut"
    ui.touch("key:7", 23.0)  # a touch starts the wait again
    ui.tick(30.0)
    assert ui.view().countdown == ""
    ui.tick(45.0)
    assert ui.view().countdown.startswith("Kembali ke awal dalam 8 detik")
    ui.touch("stay", 45.0)  # the screen touched beside the keys: the same
    assert ui.view().countdown == ui.view().stay == "" and ui.view().typed.startswith("7")
    ui.tick(75.0)
    assert ui.view().name == "welcome"


def test_a_result_screen_shows_its_deadline_as_a_countdown() -> None:
    ui, intents = controller()
    ui.show(screens.already_claimed("c1").until(112.0), 100.0)
    assert ui.view().countdown == "Kembali ke awal dalam 12 detik"
    ui.tick(105.5)
    assert ui.view().countdown == "Kembali ke awal dalam 7 detik"
    ui.touch("done", 106.0)
    assert intents.calls == [("cancel", "")]


def test_the_rest_countdown_comes_from_the_screen_deadline() -> None:
    ui, _ = controller()
    ui.show(screens.resting("c1", attempt=1, deadline=120.0), 100.0)
    view = ui.view()
    assert view.number == "20"
    assert "20" in view.next_step


def test_walkin_services_are_sent_as_codes() -> None:
    ui, intents = controller()
    ui.show(screens.choose_service("c1"), 1.0)
    codes = [a.code for a in ui.view().actions]
    assert codes == ["service:JHT", "service:JKK", "service:JKM", "service:JP", "cancel"]
    ui.touch("service:JKM", 2.0)
    assert intents.calls == [("choose_service", "JKM")]


def test_the_staff_pin_recovers_and_a_wrong_pin_says_so() -> None:
    recovered: list[bool] = []
    pin_hash = hash_secret("2468", iterations=1000)
    ui, _ = controller(staff_pin_hash=pin_hash, recover=lambda: recovered.append(True))
    ui.show(screens.out_of_service("storage", screens.STORAGE_BROKEN), 1.0)
    assert ui.view().name == "out_of_service"
    ui.touch("staff", 2.0)
    for key in "1111":
        ui.touch(f"key:{key}", 2.0)
    ui.touch("ok", 2.0)
    assert ui.view().lines == ("PIN salah",)
    assert recovered == []
    for key in "2468":
        ui.touch(f"key:{key}", 3.0)
    assert ui.view().typed == "●●●●"
    ui.touch("ok", 3.0)
    assert recovered == [True]


@dataclass
class LaterCheck:
    """A PIN check that answers when the test says (as the app's thread would, later)."""

    asked: list[tuple[str, Callable[[bool], None]]] = field(default_factory=list)

    def __call__(self, pin: str, hashed: str, done: Callable[[bool], None]) -> None:
        self.asked.append((pin, lambda _ok: done(verify_secret(pin, hashed))))

    def answer(self, index: int = -1) -> None:
        self.asked[index][1](True)


def test_the_pin_is_checked_elsewhere_and_the_pad_waits_for_the_answer() -> None:
    recovered: list[bool] = []
    check = LaterCheck()
    ui, _ = controller(staff_pin_hash=hash_secret("2468", iterations=1000),
                       recover=lambda: recovered.append(True), check_pin=check)  # fmt: skip
    ui.show(screens.out_of_service("storage", screens.STORAGE_BROKEN), 1.0)
    ui.touch("staff", 2.0)
    for key in "2468":
        ui.touch(f"key:{key}", 2.0)
    ui.touch("ok", 2.0)
    assert [pin for pin, _ in check.asked] == ["2468"]
    assert ui.view().lines == ("Memeriksa PIN...",)  # not frozen: it says what it does
    ui.touch("key:9", 2.1)
    ui.touch("back", 2.1)
    ui.touch("ok", 2.1)  # keys wait for the answer; no second check
    assert ui.view().typed == "●●●●" and len(check.asked) == 1
    assert recovered == []
    check.answer()
    assert recovered == [True]
    assert ui.view().name == "out_of_service"


def test_an_answer_for_a_pin_pad_left_meanwhile_is_dropped() -> None:
    recovered: list[bool] = []
    check = LaterCheck()
    ui, _ = controller(staff_pin_hash=hash_secret("2468", iterations=1000),
                       recover=lambda: recovered.append(True), check_pin=check)  # fmt: skip
    ui.show(screens.out_of_service("storage", screens.STORAGE_BROKEN), 1.0)
    for _attempt in range(2):  # cancelled, then opened again and a PIN sent again
        ui.touch("staff", 2.0)
        for key in "2468":
            ui.touch(f"key:{key}", 2.0)
        ui.touch("ok", 2.0)
        ui.touch("cancel", 2.0)
    ui.touch("staff", 3.0)
    check.answer(0)
    check.answer(1)
    assert recovered == []  # neither answers the pad open now
    assert ui.view().name == "staff_pin" and ui.view().lines == ()


def test_without_a_configured_pin_no_pin_opens_recovery() -> None:
    recovered: list[bool] = []
    ui, _ = controller(staff_pin_hash="", recover=lambda: recovered.append(True))
    ui.touch("staff", 1.0)
    ui.touch("ok", 1.0)
    assert recovered == []


def test_every_view_has_an_icon_and_words_never_colour_alone() -> None:
    from kiosk.ui.samples import samples

    for name, (screen, local) in samples().items():
        for lang in ("id", "en"):
            view = view_of(screen, lang, local)  # type: ignore[arg-type]
            assert view.icon and view.title, name
            assert view.name == name.removesuffix("_full").removesuffix("_clock").removesuffix(
                "_branch"
            ).replace("already_used", "refused").replace("inactivity", "keypad"), name


def test_the_camera_down_welcome_keeps_typed_codes_and_walk_ins() -> None:
    ui, _ = controller()
    ui.set_camera(down=True)
    codes = [a.code for a in ui.view().actions]
    assert ui.view().name == "camera_fault"
    assert {"keypad", "walkin", "staff"} <= set(codes)
    assert ui.screen.phase is Phase.IDLE
    styles = {a.code: a.style for a in ui.view().actions}
    # typing the code is how everyone who booked gets in now: a main button, not a side one
    assert styles["keypad"] == styles["walkin"] == "primary"
    assert styles["staff"] == "secondary"
    ui.set_camera(down=False)
    assert {a.code: a.style for a in ui.view().actions}["keypad"] == "secondary"  # QR first


def test_the_live_reading_is_written_with_each_languages_decimal_mark() -> None:
    """Bahasa Indonesia writes a decimal comma (36.4 reads as a thousands group there)."""
    screen, local = samples()["temperature"]
    assert local.reading_c == 36.4
    assert "Suhu terbaca: 36,4 °C" in view_of(screen, "id", local).lines
    assert "Reading: 36.4 °C" in view_of(screen, "en", local).lines
