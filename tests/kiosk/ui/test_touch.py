"""Touches through the real touchscreen (Kivy offscreen): what a participant reads at each step."""

from __future__ import annotations

import threading

from kiosk.domain.screens import Phase
from kiosk.engine import CLOCK_CHECK_S
from tests.kiosk.ui.uirig import STAFF_PIN, GraphicUnitTest, UnitTestTouch, open_touchscreen
from uplink.booking.codes import shown


class TouchTest(GraphicUnitTest):  # type: ignore[misc]
    def test_a_booking_qr_checks_in_without_a_touch(self) -> None:
        ui = open_touchscreen(self)
        assert ui.view_name() == "welcome"
        assert "Tunjukkan QR booking Anda ke kamera" in ui.texts()
        ui.kiosk.step_up("valid")
        ui.until(Phase.TICKET)
        assert ui.view_name() == "ticket"
        texts = ui.texts()
        number = ui.app.controller.screen.number
        assert number in texts
        assert "Tiket tercetak. Ambil di bawah layar." in " ".join(texts)
        assert len(ui.kiosk.printer.jobs) == 1

    def test_a_qr_seen_but_not_read_says_hold_still_and_closer(self) -> None:
        ui = open_touchscreen(self)
        ui.kiosk.step_up("unreadable")
        ui.frames(4)
        assert ui.view_name() == "scanning"
        assert "Tahan diam dan dekatkan ke kamera, di dalam kotak kuning." in ui.texts()
        ui.kiosk.step_away()
        ui.frames(6, advance_s=0.5)  # the hint stays a moment, then the welcome screen returns
        assert ui.view_name() == "welcome"
        assert ui.app.controller.screen.phase is Phase.IDLE

    def test_a_typed_code_goes_to_the_online_lookup(self) -> None:
        ui = open_touchscreen(self)
        ui.tap("keypad")
        assert ui.view_name() == "keypad"
        for key in "7K3QX9M2A":
            ui.tap(f"key:{key}")
        assert "7K3-QX9-M2A" in ui.texts()
        ui.tap("ok")
        ui.frames(3)
        # This kiosk has no lookup (offline): the participant is told so, not left waiting.
        assert ui.app.controller.screen.phase is Phase.REFUSED
        assert ui.app.controller.screen.reason == "lookup_offline"
        assert any("tidak terhubung" in text for text in ui.texts())

    def test_a_walk_in_chooses_a_service_and_gets_a_c_ticket(self) -> None:
        ui = open_touchscreen(self)
        ui.tap("walkin")
        ui.until(Phase.CHOOSE_SERVICE)
        assert "Pilih layanan klaim" in ui.texts()
        ui.tap("service:JKK")
        ui.until(Phase.TICKET)
        assert ui.app.controller.screen.number.startswith("JKK C")

    def test_a_collective_booking_shows_company_and_party_then_a_b_ticket(self) -> None:
        ui = open_touchscreen(self)
        ui.kiosk.thermometer.set_object(20.0)  # nobody at the sensor yet: the screen stays
        ui.kiosk.step_up("collective")
        ui.until(Phase.MEASURING)
        assert ui.view_name() == "collective"
        assert "Jumlah peserta: 24 orang" in ui.texts()
        ui.kiosk.thermometer.set_object(36.5)
        ui.until(Phase.TICKET)
        assert " B1-" in ui.app.controller.screen.number

    def test_a_booking_for_another_day_is_refused_with_the_reason_and_next_step(self) -> None:
        ui = open_touchscreen(self)
        ui.kiosk.step_up("wrong_day")
        ui.until(Phase.REFUSED)
        assert ui.view_name() == "refused"
        texts = " ".join(ui.texts())
        assert "besok" in texts
        assert "SELESAI" in ui.texts()
        ui.tap("done")
        ui.frames(3)
        assert ui.app.controller.screen.phase is Phase.IDLE

    def test_a_fever_twice_is_referred_with_a_slip_and_no_ticket(self) -> None:
        ui = open_touchscreen(self)
        ui.kiosk.thermometer.set_object(38.6)
        ui.kiosk.step_up("valid")
        ui.until(Phase.RESTING)
        assert ui.view_name() == "resting"
        ui.until(Phase.REFERRED, advance_s=0.5)
        assert ui.view_name() == "referred"
        assert "Ambil slip petunjuk di bawah layar." in ui.texts()
        assert ui.kiosk.engine.faults == {}
        assert all(b"JHT" not in job.data for job in ui.kiosk.printer.jobs)

    def test_paper_out_shows_the_number_and_says_write_it_down(self) -> None:
        ui = open_touchscreen(self)
        ui.kiosk.printer.paper_left = 0
        ui.kiosk.step_up("valid")
        ui.until(Phase.TICKET)
        assert ui.view_name() == "ticket_unprinted"
        assert "Catat nomor ini: printer kehabisan kertas." in " ".join(ui.texts())
        assert ui.app.controller.screen.number in ui.texts()
        facts = ui.app.controller.screen.ticket
        assert facts is not None and facts.track_ref
        code = shown(facts.track_ref)
        assert f"Kode lacak: {code} (catat juga)" in " · ".join(ui.texts())

    def test_an_unsynchronised_clock_asks_staff_to_check_dates_in_both_languages(self) -> None:
        ui = open_touchscreen(self)
        note = (
            "⚒ Petugas: jam kios belum sinkron, cek tanggal booking"
            " / Staff: clock not synchronised, check booking dates"
        )
        assert note not in ui.texts()
        ui.clock.set_synced(False)
        ui.frames(2, advance_s=CLOCK_CHECK_S)
        assert ui.view_name() == "welcome"
        assert note in ui.texts()
        ui.tap("lang")  # for staff: both languages whichever the participant reads
        assert note in ui.texts()
        ui.clock.set_synced(True)
        ui.frames(2, advance_s=CLOCK_CHECK_S)
        assert note not in ui.texts()

    def test_a_hung_camera_shows_what_still_works_and_staff_clears_it(self) -> None:
        from kiosk.ui import app as ui_app

        checked_on: list[str] = []
        verify = ui_app.verify_secret

        def recording(pin: str, hashed: str) -> bool:
            checked_on.append(threading.current_thread().name)
            return verify(pin, hashed)

        ui_app.verify_secret = recording  # type: ignore[assignment]
        self.addCleanup(setattr, ui_app, "verify_secret", verify)
        ui = open_touchscreen(self)
        ui.kiosk.camera.fail(True)
        ui.frames(4)
        assert ui.view_name() == "camera_fault"
        assert "Kamera tidak berfungsi" in ui.texts()
        assert {"keypad", "walkin", "staff"} <= set(ui.app.view_widget.buttons())
        ui.kiosk.camera.fail(False)
        ui.tap("staff")
        for key in STAFF_PIN:
            ui.tap(f"key:{key}")
        ui.tap("ok")
        ui.until_view("welcome")
        assert checked_on == ["staff-pin"]  # PBKDF2 off Kivy's thread: frames go on meanwhile

    def test_english_is_one_tap_and_bahasa_returns_at_welcome(self) -> None:
        ui = open_touchscreen(self)
        ui.tap("lang")
        assert "Show your booking QR to the camera" in ui.texts()
        ui.tap("walkin")
        ui.until(Phase.CHOOSE_SERVICE)
        assert "Choose your claim" in ui.texts()
        ui.tap("cancel")
        ui.until(Phase.IDLE)
        assert "Tunjukkan QR booking Anda ke kamera" in ui.texts()

    def test_the_keypad_left_alone_counts_down_and_returns_to_welcome(self) -> None:
        ui = open_touchscreen(self)
        ui.tap("keypad")
        ui.frames(10, advance_s=1.2)  # 12 s without a touch
        assert any(text.startswith("◷ Kembali ke awal dalam") for text in ui.texts())
        ui.frames(12, advance_s=1.0)
        assert ui.view_name() == "welcome"

    def test_touching_the_screen_beside_the_keys_keeps_the_keypad(self) -> None:
        ui = open_touchscreen(self)
        ui.tap("keypad")
        ui.tap("key:7")
        ui.frames(10, advance_s=1.2)
        assert any(text.startswith("◷ Kembali ke awal dalam") for text in ui.texts())
        assert ui.app.view_widget is not None
        title = next(w for w in ui.app.view_widget.labels()
                     if getattr(w, "plain", "") == "Ketik kode booking")  # fmt: skip
        touch = UnitTestTouch(*title.to_window(*title.center))  # words, not a touch target
        touch.touch_down()
        touch.touch_up()
        ui.frames(2, advance_s=0.0)
        assert not any("Kembali ke awal" in text for text in ui.texts())
        ui.frames(8, advance_s=1.0)  # 20 s after the key, 8 after the touch: still typing
        assert ui.view_name() == "keypad"
        assert any(text.startswith("7") for text in ui.texts())
