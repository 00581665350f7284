"""The simulation panel beside the kiosk screen: who steps up, their temperature, the devices'
faults, and the ticket the simulated printer just printed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.togglebutton import ToggleButton

from kiosk.domain.screens import Phase
from kiosk.ui.simulate import SimKiosk

if TYPE_CHECKING:
    from kiosk.ui.app import KioskApp
    from kiosk.ui.run import PanelParts

HOLD_S = 3.0  # a phone is held up this long
PEOPLE = (
    ("valid", "Valid booking"),
    ("replayed", "Replayed QR"),
    ("wrong_branch", "Wrong branch"),
    ("wrong_day", "Wrong day"),
    ("walkin", "Walk-in"),
    ("collective", "Collective (HR)"),
    ("unreadable", "Unreadable QR"),
    ("away", "Steps away"),
)
TEMPERATURES = (
    ("36.6 °C", 36.6, None),
    ("37.9, then 36.8", 37.9, 36.8),
    ("38.6 fever", 38.6, None),
    ("no reading", None, None),
)


class SimPanel(BoxLayout):
    """Buttons that drive a `SimKiosk`, and the last ticket as the printer drew it.

    Args:
        app: the touchscreen beside the panel.
        kiosk: the simulated kiosk (or only its devices, when participants come on their own).
        people: show the "who steps up" and temperature buttons.
        staff_pin: the simulated kiosk's staff PIN, shown so a newcomer can open the staff
            screen; shown only when it is the app's PIN (`Controller.opens_with`).
    """

    def __init__(self, app: KioskApp, kiosk: SimKiosk | PanelParts, *, people: bool = True,
                 staff_pin: str = "", **kwargs: Any) -> None:  # fmt: skip
        super().__init__(orientation="vertical", padding=8, spacing=6, **kwargs)
        self.app = app
        self.kiosk = kiosk
        self._after_rest: float | None = None
        self._last_job: object = None
        self._away: Any = None
        if people:  # else participants come on their own (the branch simulation)
            self._people()
        self.add_widget(self._title("Devices"))
        faults = GridLayout(cols=2, spacing=4, size_hint_y=None, height=48)
        paper = ToggleButton(text="Paper out", font_size=18)
        paper.bind(state=lambda _b, state: self.paper_out(state == "down"))
        hang = ToggleButton(text="Camera hang", font_size=18)
        hang.bind(state=lambda _b, state: self.camera_hang(state == "down"))
        faults.add_widget(paper)
        faults.add_widget(hang)
        self.add_widget(faults)
        self.pin_note: Label | None = None
        if staff_pin and app.controller.opens_with(staff_pin):  # under the faults it clears
            self.pin_note = Label(
                text=f"Staff PIN (simulation): [b]{staff_pin}[/b], after STAFF on a fault screen",
                markup=True, font_size=16, size_hint_y=None, height=44,
            )  # fmt: skip
            self.pin_note.bind(width=lambda w, width: setattr(w, "text_size", (width, None)))
            self.add_widget(self.pin_note)
        self.status = Label(text="", font_size=16, size_hint_y=None, height=44)
        self.status.bind(width=lambda w, width: setattr(w, "text_size", (width, None)))
        self.add_widget(self.status)
        self.add_widget(self._title("Last ticket"))
        self.ticket = Image(fit_mode="contain", nocache=True)
        self.add_widget(self.ticket)
        Clock.schedule_interval(self._poll, 0.3)

    def _people(self) -> None:
        self.add_widget(self._title("Who steps up"))
        people = GridLayout(cols=2, spacing=4, size_hint_y=None, height=4 * 48 + 12)
        for who, label in PEOPLE:
            people.add_widget(self._button(label, lambda w=who: self.step_up(w)))
        self.add_widget(people)
        self.add_widget(self._title("Forehead temperature"))
        temps = GridLayout(cols=2, spacing=4, size_hint_y=None, height=2 * 48 + 4)
        for label, first, after in TEMPERATURES:
            temps.add_widget(self._button(label, lambda f=first, a=after: self.temperature(f, a)))
        self.add_widget(temps)

    def _title(self, text: str) -> Label:
        return Label(text=f"[b]{text}[/b]", markup=True, font_size=18, size_hint_y=None,
                     height=26)  # fmt: skip

    def _button(self, text: str, action: Any) -> Button:
        button = Button(text=text, font_size=18)
        button.bind(on_release=lambda *_: action())
        return button

    # -- actions --------------------------------------------------------------------------------

    def step_up(self, who: str) -> None:
        assert isinstance(self.kiosk, SimKiosk)  # noqa: S101 - only with the people buttons
        if self._away is not None:
            self._away.cancel()
        kiosk = self.kiosk
        if who == "away":
            kiosk.step_away()
            self.status.text = "nobody at the kiosk"
            return
        kiosk.step_up(who)
        self.status.text = f"{who.replace('_', ' ')} steps up"
        self._away = Clock.schedule_once(lambda _dt: kiosk.step_away(), HOLD_S)

    def temperature(self, first: float | None, after_rest: float | None) -> None:
        thermometer = self.kiosk.thermometer
        if first is None:
            thermometer.fail("missing")
            self.status.text = "thermometer gives no reading"
            return
        thermometer.fail(None)
        thermometer.set_object(first)
        self._after_rest = after_rest
        self.status.text = f"forehead {first:.1f} °C" + (
            f", {after_rest:.1f} °C after the rest" if after_rest else ""
        )

    def paper_out(self, out: bool) -> None:
        self.kiosk.printer.paper_left = 0 if out else None
        self.status.text = "printer out of paper" if out else "paper loaded"

    def camera_hang(self, hung: bool) -> None:
        self.kiosk.camera.fail(hung)
        self.status.text = "camera hangs" if hung else "camera works"

    # -- polling --------------------------------------------------------------------------------

    def _poll(self, _dt: float) -> None:
        if self._after_rest is not None and self.app.controller.screen.phase is Phase.RESTING:
            self.kiosk.thermometer.set_object(self._after_rest)
            self._after_rest = None
        jobs = self.kiosk.printer.jobs
        if jobs and jobs[-1] is not self._last_job:
            self._last_job = jobs[-1]
            self.kiosk.forget()
            path = jobs[-1].png_path
            if path is not None:
                self.ticket.source = str(path)
                self.ticket.reload()
