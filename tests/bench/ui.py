"""Touchscreen benchmark: start-up, QR to screen, frame time with the live preview, memory.

    python tests/bench/ui.py [--checkins 1000]

Runs offscreen (``SDL_VIDEODRIVER=offscreen``, real rendering through Mesa). Measures:

- ``bare_window_s``: a child process opening a bare Kivy window, start to first frame (the floor);
- ``start_to_idle_s``: a child process starting the whole touchscreen over a simulated kiosk
  (real engine, verifier, SQLite stores) until the welcome screen is drawn;
- ``frame_ms_p95``: Kivy's frame time while a simulated camera feeds the preview at 30 fps
  (``idle_frame_ms_p95``: the same without frames, the floor);
- ``qr_to_result_ms_p95``: a frame holding a booking QR handed to the camera port until the next
  screen is drawn (the kiosk loop on its own thread, simulated sensor and printer at zero delay);
  ``decode_ms_p95`` is the decoder alone on the same frames (its floor);
- ``rss_growth_mb_per_1000``: resident memory after `--checkins` check-ins through the UI,
  minus after the first 100, per 1,000 check-ins (the simulated printer's and event log's own
  records are trimmed as they go: `SimKiosk.forget`).

CPU time (all the process's threads, `time.process_time`) is printed beside the wall times, so a
run on a loaded machine can be told apart from a slow UI: ``idle_cpu_ms_per_frame`` and
``preview_cpu_ms_per_frame`` over the two frame phases, ``cpu_ms_per_checkin`` over the soak.

Offscreen, Mesa's software renderer (llvmpipe) draws: `kiosk.ui.kivyenv` has it rasterise on
Kivy's thread (``LP_NUM_THREADS=0``) and the app hands it each frame as a display's swap would
(`kivyenv.hand_over_each_frame`), so every frame is really drawn and paid for in these figures.

Bar (issue 13): start_to_idle_s <= 3 x bare_window_s + 1, qr_to_result_ms_p95 <= 100,
frame_ms_p95 <= 33, rss_growth_mb_per_1000 <= 5. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

WARMUP = 100


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as stream:
        pages = int(stream.read().split()[1])
    return pages * resource.getpagesize() / 1e6


def child_bare() -> None:
    """A bare Kivy window: print the wall time of its first drawn frame."""
    from kiosk.ui.kivyenv import prepare

    prepare(offscreen=True, audio=False)
    from kivy.app import App
    from kivy.core.window import Window
    from kivy.uix.widget import Widget

    class Bare(App):  # type: ignore[misc]
        def build(self) -> Widget:
            Window.bind(on_flip=self._flipped)
            return Widget()

        def _flipped(self, *_: Any) -> None:
            print(json.dumps({"drawn": time.time()}), flush=True)
            Window.unbind(on_flip=self._flipped)
            self.stop()

    Bare().run()


def child_kiosk() -> None:
    """The whole touchscreen over a simulated kiosk: print when the welcome screen is drawn."""
    from kiosk.ui.kivyenv import prepare

    prepare(offscreen=True, audio=False)
    from kivy.core.window import Window

    from kiosk.ui.app import KioskApp
    from kiosk.ui.simulate import sim_kiosk
    from kiosk.ui.theme import RESOLUTIONS
    from uplink import SystemClock

    clock = SystemClock()
    kiosk = sim_kiosk(Path(tempfile.mkdtemp(prefix="bench-ui-")), clock, render_tickets=False)
    app = KioskApp(
        engine=kiosk.engine,
        camera=kiosk.camera,
        step=kiosk.step,
        theme=RESOLUTIONS["800x480"],
        monotonic=clock.monotonic,
        watchdog=False,
    )

    def flipped(*_: Any) -> None:
        view = app.view_widget
        if view is not None and view.view is not None and view.view.name == "welcome":
            print(json.dumps({"drawn": time.time()}), flush=True)
            Window.unbind(on_flip=flipped)
            app.stop()

    Window.bind(on_flip=flipped)
    app.run()
    kiosk.close()


def time_child(kind: str) -> float:
    start = time.time()
    done = subprocess.run([sys.executable, __file__, "--child", kind], capture_output=True,
                          text=True, timeout=300, check=True)  # fmt: skip
    drawn = next(json.loads(line)["drawn"] for line in done.stdout.splitlines() if "drawn" in line)
    return float(drawn) - start


class Driver:
    """Runs inside the app's Kivy loop: preview frames, then check-ins one after another."""

    def __init__(self, app: Any, kiosk: Any, checkins: int) -> None:
        from kivy.core.window import Window

        self.app = app
        self.kiosk = kiosk
        self.checkins = checkins
        self.window = Window
        self.flips: list[float] = []
        self.qr_ms: list[float] = []
        self.decode_ms: list[float] = []
        self.rss_after_warmup = 0.0
        self.rss_end = 0.0
        self.idle_frames: list[float] = []
        self.preview_frames: list[float] = []
        self._state = "idle_frames"
        self._until = time.perf_counter() + 2.0
        self._shown_at = 0.0
        self._done = 0
        self._feeding = threading.Event()
        self.cpu: dict[str, float] = {}  # phase -> process CPU seconds when it began / its total
        self._cpu_at = time.process_time()
        Window.bind(on_flip=self._flip)

    def _flip(self, *_: Any) -> None:
        now = time.perf_counter()
        if self.flips:
            gap = (now - self.flips[-1]) * 1000
            if self._state == "idle_frames":
                self.idle_frames.append(gap)
            elif self._state == "preview_frames":
                self.preview_frames.append(gap)
        self.flips.append(now)
        del self.flips[:-2]
        self.step(now)

    def _feed(self) -> None:
        import numpy as np

        rng = np.random.default_rng(0)
        frames = [rng.integers(0, 255, (480, 640), dtype=np.uint8) for _ in range(8)]
        index = 0
        while self._feeding.is_set():
            self.kiosk.camera.show(frames[index % len(frames)])
            index += 1
            time.sleep(1 / 30)

    def _phase_cpu(self, phase: str) -> None:
        now = time.process_time()
        self.cpu[phase] = now - self._cpu_at
        self._cpu_at = now

    def step(self, now: float) -> None:
        controller = self.app.controller
        phase = controller.screen.phase.value
        if self._state == "idle_frames" and now > self._until:
            self._phase_cpu("idle_frames")
            self._state = "preview_frames"
            self._until = now + 4.0
            self._feeding.set()
            threading.Thread(target=self._feed, daemon=True).start()
        elif self._state == "preview_frames" and now > self._until:
            self._feeding.clear()
            self._phase_cpu("preview_frames")
            self._state = "show"
        elif (
            self._state == "show"
            and phase == "idle"
            and self.app.view_widget.view.name == "welcome"
        ):
            if self._done == WARMUP:
                self.rss_after_warmup = rss_mb()
                self._cpu_at = time.process_time()
            if self._done >= self.checkins:
                self.rss_end = rss_mb()
                self._phase_cpu("checkins")
                self.app.stop()
                return
            frame = self.kiosk.frame_of(self.kiosk.token())
            t0 = time.perf_counter()
            self.decode_ms.append(0.0)
            self.kiosk.decoder.decode(frame)
            self.decode_ms[-1] = (time.perf_counter() - t0) * 1000
            self._shown_at = time.perf_counter()
            self.kiosk.camera.show(frame)
            self._state = "wait_result"
        elif self._state == "wait_result" and phase != "idle":
            self.qr_ms.append((now - self._shown_at) * 1000)
            self._state = "wait_ticket"
        elif self._state == "wait_ticket" and phase == "ticket":
            self._done += 1
            self.kiosk.forget()  # the simulators' own records: not the kiosk's memory
            self.kiosk.step_away()
            self.app.on_action("done")
            self._state = "show"


def bench(checkins: int) -> dict[str, Any]:
    from kiosk.ui.kivyenv import prepare

    prepare(offscreen=True, audio=False)
    from kivy.clock import Clock

    from kiosk.ui.app import KioskApp
    from kiosk.ui.simulate import sim_kiosk
    from kiosk.ui.theme import RESOLUTIONS
    from uplink import SystemClock

    clock = SystemClock()
    kiosk = sim_kiosk(Path(tempfile.mkdtemp(prefix="bench-ui-")), clock, render_tickets=False,
                      zero_delay=True)  # fmt: skip
    kiosk.engine.settings = _quick(kiosk.engine.settings)
    app = KioskApp(
        engine=kiosk.engine,
        camera=kiosk.camera,
        step=kiosk.step,
        theme=RESOLUTIONS["800x480"],
        monotonic=clock.monotonic,
        watchdog=False,
    )
    driver: list[Driver] = []
    Clock.schedule_once(lambda _dt: driver.append(Driver(app, kiosk, checkins)), 0.5)
    Clock.schedule_interval(lambda _dt: app.root.canvas.ask_update(), 0)  # draw every frame
    app.run()
    kiosk.close()
    run = driver[0]
    growth = (run.rss_end - run.rss_after_warmup) / max(1, checkins - WARMUP) * 1000
    return {
        "frame_ms_p95": round(p95(run.preview_frames), 1),
        "idle_frame_ms_p95": round(p95(run.idle_frames), 1),
        "qr_to_result_ms_p95": round(p95(run.qr_ms), 1),
        "qr_to_result_ms_p50": round(statistics.median(run.qr_ms), 1),
        "decode_ms_p95": round(p95(run.decode_ms), 1),
        "checkins": checkins,
        "rss_mb_end": round(run.rss_end, 1),
        "rss_growth_mb_per_1000": round(growth, 2),
        "idle_cpu_ms_per_frame": round(run.cpu["idle_frames"] * 1000 / len(run.idle_frames), 2),
        "preview_cpu_ms_per_frame": round(
            run.cpu["preview_frames"] * 1000 / len(run.preview_frames), 2
        ),
        "cpu_ms_per_checkin": round(run.cpu["checkins"] * 1000 / max(1, checkins - WARMUP), 1),
        "load_1min": round(os.getloadavg()[0], 1),
    }


def _quick(settings: Any) -> Any:
    from dataclasses import replace

    return replace(settings, repeat_ignore_s=0.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkins", type=int, default=1000)
    parser.add_argument("--child", choices=("bare", "kiosk"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    children: dict[str, Callable[[], None]] = {"bare": child_bare, "kiosk": child_kiosk}
    if args.child:
        children[args.child]()
        return 0
    if args.checkins <= WARMUP:
        parser.error(f"--checkins must be above the {WARMUP} warm-up check-ins")
    bare = min(time_child("bare") for _ in range(2))
    start = min(time_child("kiosk") for _ in range(2))
    result = {"start_to_idle_s": round(start, 2), "bare_window_s": round(bare, 2)}
    result.update(bench(args.checkins))
    result["start_bar_s"] = round(3 * bare + 1, 2)
    result["ok"] = (
        start <= 3 * bare + 1
        and result["qr_to_result_ms_p95"] <= 100
        and result["frame_ms_p95"] <= 33
        and result["rss_growth_mb_per_1000"] <= 5
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
