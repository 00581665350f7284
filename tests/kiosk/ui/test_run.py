"""Starting the touchscreen: config, display detection, the simulated kiosk, the watchdog."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

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
