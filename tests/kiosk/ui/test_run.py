"""Starting the touchscreen: config, display detection, the simulated kiosk, the watchdog."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

from configkit.hashed import hash_secret, verify_secret
from kiosk.config import UiConfig
from kiosk.domain.screens import Phase
from kiosk.ui.run import theme_of, why_headless
from kiosk.ui.simulate import sim_kiosk
from tests.kiosk.rig import NOW
from tests.kiosk.ui.uirig import ISSUER, GraphicUnitTest, open_touchscreen
from uplink import ManualClock


def test_the_ui_table_chooses_the_panel() -> None:
    tall = UiConfig(enabled=True, orientation="portrait", width_px=1080, height_px=1920,
                    scale=1.5)  # fmt: skip
    assert theme_of(tall).orientation == "portrait"
    assert theme_of(tall).body == 42
    unset = UiConfig(enabled=True, orientation="portrait", width_px=1080, height_px=1920)
    assert theme_of(unset).scale == 1.75  # by the panel: large type on the tall screen
    assert theme_of(UiConfig()).scale == 1.0  # the 7" panel
    with pytest.raises(ValidationError, match="swap them"):
        UiConfig(orientation="portrait", width_px=800, height_px=480)
    with pytest.raises(ValidationError):
        UiConfig(staff_pin="12a4")


def test_a_plain_staff_pin_in_the_config_is_refused_with_the_fix() -> None:
    fix = "run `kiosk hash-pin`, put what it prints in ui.staff_pin_hash"
    with pytest.raises(ValidationError, match=re.escape(fix)):
        UiConfig(staff_pin="2468")
    with pytest.raises(ValidationError, match="not a secret hash; make one with `kiosk hash-pin`"):
        UiConfig(staff_pin_hash="2468")
    hashed = hash_secret("2468", iterations=1000)
    assert UiConfig(staff_pin_hash=hashed).staff_pin_hash == hashed


def test_kiosk_hash_pin_prints_a_hash_the_config_accepts_and_the_pin_matches(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kiosk.__main__ import main

    monkeypatch.setattr("sys.stdin", io.StringIO("2468\n"))
    assert main(["hash-pin", "--stdin"]) == 0
    hashed = capsys.readouterr().out.strip()
    assert "2468" not in hashed
    assert UiConfig(staff_pin_hash=hashed).staff_pin_hash == hashed
    assert verify_secret("2468", hashed)
    assert not verify_secret("2469", hashed)
    monkeypatch.setattr("sys.stdin", io.StringIO("24a8\n"))
    assert main(["hash-pin", "--stdin"]) == 2
    assert "4-8 digits" in capsys.readouterr().err


def test_without_a_display_the_kiosk_says_why_and_runs_headless(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert why_headless(UiConfig(enabled=False)) is None
    assert "no display" in (why_headless(UiConfig(enabled=True)) or "")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert why_headless(UiConfig(enabled=True)) is None


def test_run_simulate_without_a_display_says_how_to_get_one(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    command = [sys.executable, "-m", "kiosk", "run", "--simulate"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env,
                          check=False)  # fmt: skip
    assert done.returncode == 2
    assert "xvfb-run" in done.stdout


def test_the_branch_with_ui_and_no_display_says_how_to_get_one_and_starts_nothing(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    command = [sys.executable, "-m", "branchsim", "--ui", "--dir", str(tmp_path / "sim")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env,
                          check=False)  # fmt: skip
    assert done.returncode == 2
    assert "xvfb-run" in done.stderr
    assert "Kivy" not in done.stderr + done.stdout  # no Kivy usage text: it was not loaded
    assert not (tmp_path / "sim").exists()


# The touchscreen over a simulated kiosk, started and stopped in its own interpreter.
_TOUCHSCREEN_LIFE = """
import sys, tempfile
from pathlib import Path
from kiosk.ui.kivyenv import prepare
prepare(offscreen=True, audio=False)
from kivy.clock import Clock
from kiosk.ui.app import KioskApp
from kiosk.ui.simulate import sim_kiosk
from kiosk.ui.theme import RESOLUTIONS
from uplink import SystemClock
clock = SystemClock()
kiosk = sim_kiosk(Path(tempfile.mkdtemp()), clock, render_tickets=False)
app = KioskApp(engine=kiosk.engine, camera=kiosk.camera, step=kiosk.step,
               theme=RESOLUTIONS["800x480"], monotonic=clock.monotonic, watchdog=False)
Clock.schedule_once(lambda _dt: kiosk.step_up("valid"), 0.5)
Clock.schedule_once(lambda _dt: app.stop(), 2.0)
app.run()
kiosk.close()
print("stopped")
"""


def test_the_touchscreen_ends_without_zxing_cpps_leak_notice(tmp_path: Path) -> None:
    """nanobind (zxing-cpp's binding) lists its objects still alive when the interpreter ends:
    none may be (a module-level `BarcodeFormats` was, after every run with Kivy)."""
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy"}
    done = subprocess.run([sys.executable, "-c", _TOUCHSCREEN_LIFE], capture_output=True,
                          text=True, timeout=120, env=env, check=False, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "stopped" in done.stdout
    assert "leaked" not in done.stderr, done.stderr[-2000:]


def test_the_simulated_kiosk_steps_up_every_kind_of_participant(tmp_path: Path) -> None:
    clock = ManualClock(NOW)
    kiosk = sim_kiosk(tmp_path, clock, issuer=ISSUER, render_tickets=False)
    outcomes: list[str] = []
    kiosk.engine.on_finished(lambda done: outcomes.append(f"{done.phase.value}:{done.reason}"))
    try:
        for who in ("valid", "replayed", "wrong_branch", "wrong_day", "collective"):
            clock.advance(5)
            kiosk.step_up(who)
            for _ in range(40):
                kiosk.step()
                clock.advance(0.1)
            kiosk.step_away()
            clock.advance(15)
            kiosk.step()
    finally:
        kiosk.close()
    assert outcomes[0] == "ticket:" and outcomes[4] == "ticket:"
    assert outcomes[1] == "refused:already_checked_in"
    assert outcomes[2] == "refused:wrong_branch"
    assert outcomes[3] == "refused:wrong_day"


class WatchdogTest(GraphicUnitTest):  # type: ignore[misc]
    def test_the_watchdog_is_fed_from_kivys_frame_loop_only(self) -> None:
        from kiosk.ui import app as ui_app

        fed: list[str] = []
        original = ui_app.systemd.notify_watchdog
        ui_app.systemd.notify_watchdog = lambda: fed.append(threading.current_thread().name) or True
        self.addCleanup(setattr, ui_app.systemd, "notify_watchdog", original)
        ui = open_touchscreen(self, watchdog=True, watchdog_s=0)
        ui.frames(5)
        assert len(fed) >= 3
        assert set(fed) == {"MainThread"}  # Kivy's thread; the kiosk loop's steps never feed it
        ui.app.on_stop()
        fed.clear()
        ui.frames(3)
        assert fed == []  # no frame loop, no food: systemd restarts a frozen UI
        assert ui.app.controller.screen.phase is Phase.IDLE
