"""The simulated runners build the kiosk the app builds: its wiring, so its settings.

Settings are read off the built objects (`tests.device_settings.settings_of`, as for
`provision check`'s devices), so a runner that made its own printer or thermometer and left a
config setting out would differ here.
"""

from __future__ import annotations

import ast
from pathlib import Path

from kiosk import app as kiosk_app
from kiosk.devices import build_simulated_printer
from kiosk.sim.runner import build_headless
from receipts import Cut, Line, QrCode
from tests.device_settings import settings_of
from tests.kiosk.rig import NOW, Rig
from uplink import ManualClock


def test_the_headless_runner_builds_the_devices_and_engine_the_app_builds(
    rig: Rig, tmp_path: Path
) -> None:
    """GIVEN a config whose printer settings are unlike the defaults WHEN `kiosk checkin
    --simulate`'s kiosk and the app's are built from it THEN their thermometer, printer,
    engine settings and QR decoder are the same."""
    out = tmp_path / "out"
    settings = {"transport": "simulated", "columns": 42, "paper_dots": 576, "out_dir": out}
    printer = rig.config.printer.model_copy(update=settings)
    config = rig.config.model_copy(update={"printer": printer})
    headless = build_headless(config, out, ManualClock(NOW))
    app = kiosk_app.build(config, clock=ManualClock(NOW), online=False)
    try:
        for port in ("_thermometer", "_printer"):  # the engine's own ports
            ran, runs = getattr(headless.engine, port), getattr(app.engine, port)
            assert settings_of(ran) == settings_of(runs), port
        built = settings_of(headless.printer)
        assert (built["columns"], built["paper_dots"], built["out_dir"]) == (42, 576, out)
        assert built["_kind"]["function"] == "ticket_or_slip"  # ticket-NNNN.png, slip-NNNN.png
        assert headless.engine.settings == app.engine.settings
        assert settings_of(headless.decoder) == settings_of(app.decoder.decoder)
    finally:
        app.close()
        headless.close()


def test_the_headless_runners_paper_roll_is_the_one_it_is_given(rig: Rig, tmp_path: Path) -> None:
    headless = build_headless(rig.config, tmp_path / "out", ManualClock(NOW), paper_left=2)
    try:
        assert headless.printer.paper_left == 2
        assert headless.printer.out_dir == tmp_path / "out"
    finally:
        headless.close()


def test_the_simulated_printer_names_tickets_and_slips_and_runs_out_of_paper(
    rig: Rig, tmp_path: Path
) -> None:
    printer = build_simulated_printer(rig.config, out_dir=tmp_path, paper_left=2)

    printer.print_elements([Line("Nomor"), QrCode("https://x.example/?ref=1"), Cut()])
    printer.print_elements([Line("Petunjuk"), Cut()])

    assert [job.png_path.name for job in printer.jobs if job.png_path] == [
        "ticket-0001.png",
        "slip-0002.png",
    ]
    assert printer.status().value == "paper_out"


ROOT = Path(__file__).resolve().parents[2]


def test_a_simulated_receipt_printer_is_made_in_one_place() -> None:
    """The app's simulated printer (`kiosk.devices.build_printer` of a simulated transport),
    the simulators' (`build_simulated_devices`, the touchscreen's simulated kiosk) and the
    tests' are all made by `receipts.wiring.build_simulated_printer`: one wiring path, so no
    simulation prints with settings the app would not use. (The dropbox's slip printer wraps
    its own; the dropbox is outside this check.)"""
    makers = set()
    for package in ("kiosk", "receipts", "branchsim", "provisioning", "tests/kiosk"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call):
                    func = node.func
                    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                    if name == "SimulatedPrinter":
                        makers.add(path.relative_to(ROOT).as_posix())
    assert makers == {"receipts/wiring.py"}
