"""Every code in a frame is considered, and booking tokens win over the other codes."""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import pytest

from kiosk.adapters.qr import FALLBACKS, LiveDecoder, QrDecoder
from kiosk.domain import events, scanning
from kiosk.domain.screens import Phase
from kiosk.runtime import Kiosk
from kiosk.sim.bookings import token_qr
from kiosk.sim.camera import ScriptedCamera
from kiosk.sim.frames import DEGRADATIONS, place, qr_image, stacked
from kiosk.sim.runner import Arrival, checkin_simulated
from tests.kiosk.rig import NOW, Rig

APP_LINK = "https://play.google.com/store/apps/details?id=com.bpjstku"
TOKEN = "LA1:" + "6BFOXN*TS0BI$ZD.P9UPO%KZ" * 8  # token-shaped: the prefix is what counts here


# -- the choice (pure) --------------------------------------------------------------------------


def test_a_booking_token_wins_wherever_it_is_in_the_frame() -> None:
    assert scanning.pick([APP_LINK, TOKEN]) == TOKEN
    assert scanning.pick([TOKEN, APP_LINK]) == TOKEN
    assert scanning.candidates([APP_LINK, "KLAIM-1", TOKEN]) == (TOKEN,)


def test_without_a_booking_token_the_first_code_gets_its_answer() -> None:
    assert scanning.pick([APP_LINK, "KLAIM-1"]) == APP_LINK
    assert scanning.pick([]) is None


def test_a_booking_just_answered_is_not_replaced_by_another_code_beside_it() -> None:
    assert scanning.pick([APP_LINK, TOKEN], recent=[TOKEN]) is None
    assert scanning.pick([TOKEN, TOKEN.replace("6", "7")], recent=[TOKEN]) == TOKEN.replace(
        "6", "7"
    )


def test_a_code_is_acted_on_once_per_window_then_again_after_it() -> None:
    recent = scanning.RecentCodes()

    assert recent.first_time("B1", now=10.0, window_s=8.0)
    assert not recent.first_time("B1", now=17.9, window_s=8.0)  # still held up
    assert recent.first_time("B2", now=17.9, window_s=8.0)  # another code is its own
    assert recent.within(17.9, window_s=8.0) == {"B1", "B2"}
    assert recent.first_time("B1", now=18.0, window_s=8.0)  # the window has passed
    assert recent.within(25.95, window_s=8.0) == {"B1"}  # B2 forgotten, B1 renewed at 18


def test_scanner_noise_around_a_token_still_counts_as_a_token() -> None:
    assert scanning.is_booking_token(f"\r\n{TOKEN}\n")
    assert not scanning.is_booking_token("la1:lowercase")


# -- the decoder keeps every code and searches on for a booking --------------------------------


@pytest.mark.parametrize("booking_below", [True, False])
def test_the_decoder_returns_every_code_in_the_frame(booking_below: bool) -> None:
    app, booking = qr_image(APP_LINK), qr_image(TOKEN)
    frame = stacked(app, booking) if booking_below else stacked(booking, app)

    texts = LiveDecoder(QrDecoder(wanted=scanning.is_booking_token)).decode(frame).texts

    assert set(texts) == {APP_LINK, TOKEN}


def hard_confirmation() -> object:
    """An app QR the plain call reads above a dark, small booking QR it cannot read."""
    booking = DEGRADATIONS["dark"](
        place(qr_image(TOKEN, module_px=3), size=(300, 300), background=150), random.Random(0)
    )
    frame = place(qr_image(APP_LINK), at=(40, 10), background=200)
    frame[170:470, 300:600] = booking
    return frame


def test_another_code_read_at_once_does_not_end_the_search_for_the_booking() -> None:
    frame = hard_confirmation()
    plain_only = LiveDecoder(fallback_every=1)  # stops at the first code it reads
    searching = LiveDecoder(QrDecoder(wanted=scanning.is_booking_token), fallback_every=1)

    before = [plain_only.decode(frame).texts for _ in FALLBACKS]  # type: ignore[arg-type]
    after = searching.decode(frame)  # type: ignore[arg-type]

    assert all(texts == (APP_LINK,) for texts in before)
    assert set(after.texts) == {APP_LINK, TOKEN}
    assert after.strategy != "plain"


def test_without_a_wanted_text_the_decoder_keeps_counting_misses() -> None:
    frame = hard_confirmation()
    live = LiveDecoder(QrDecoder(wanted=lambda text: text == "nothing here"), fallback_every=2)

    tried = [live.decode(frame).tried for _ in range(4)]  # type: ignore[arg-type]

    assert tried[1] > tried[0] and tried[3] > tried[2]  # a fallback on every second frame


# -- the kiosk acts on the booking --------------------------------------------------------------


def show_until_done(kiosk: Kiosk, rig: Rig, frame: object, steps: int = 50) -> Phase:
    camera = kiosk.camera
    assert isinstance(camera, ScriptedCamera)
    camera.show(frame)  # type: ignore[arg-type]
    for _ in range(steps):
        kiosk.step()
        if kiosk.engine.screen.phase in (Phase.TICKET, Phase.REFUSED):
            break
        rig.clock.advance(0.1)
    return kiosk.engine.screen.phase


@pytest.mark.parametrize("booking_below", [True, False])
def test_a_confirmation_with_an_app_qr_beside_the_booking_checks_in(
    kiosk: Kiosk, rig: Rig, booking_below: bool
) -> None:
    app, booking = qr_image(APP_LINK), token_qr(rig.token("B0000201"))
    frame = stacked(app, booking) if booking_below else stacked(booking, app)

    phase = show_until_done(kiosk, rig, frame)

    assert phase is Phase.TICKET
    assert rig.events.of(events.REFUSED) == []
    assert len(rig.printer.jobs) == 1

    for _ in range(5):  # the page stays in front of the camera: the ticket screen stays
        rig.clock.advance(1.0)
        kiosk.step()
    assert kiosk.engine.screen.phase is Phase.TICKET
    assert rig.events.of(events.REFUSED) == []


def test_a_lone_other_code_is_still_told_it_is_not_a_booking(kiosk: Kiosk, rig: Rig) -> None:
    phase = show_until_done(kiosk, rig, place(qr_image(APP_LINK), background=200))

    assert phase is Phase.REFUSED
    assert kiosk.engine.screen.reason == "wrong_prefix"


def test_a_photographed_confirmation_checks_in_headless(rig: Rig, tmp_path: Path) -> None:
    page = tmp_path / "confirmation.png"
    cv2.imwrite(str(page), stacked(qr_image(APP_LINK), token_qr(rig.token("B0000202"))))

    [record] = checkin_simulated(rig.config, [Arrival(image=page)], tmp_path / "out", now=NOW)

    assert (record["phase"], record["ticket_number"]) == ("ticket", "JHT A1-001")
