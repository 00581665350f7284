"""The kiosk's layers: a pure domain; device libraries only in their adapters, imported late."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

KIOSK = Path(__file__).resolve().parents[2] / "kiosk"
HARDWARE = {"gpiozero", "picamera2", "libcamera", "kivy", "escpos", "usb", "serial", "paho",
            "cv2", "smbus2", "zxingcpp", "requests", "numpy", "PIL"}  # fmt: skip
# Libraries that touch devices when imported, or need them: never at module level anywhere.
LAZY_ONLY = {"picamera2", "libcamera", "smbus2", "escpos", "usb", "serial", "gpiozero", "kivy"}


def imports(path: Path, *, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


PURE = [*sorted((KIOSK / "domain").glob("*.py")), KIOSK / "bilingual.py"]


@pytest.mark.parametrize("path", PURE, ids=lambda p: p.name)
def test_the_domain_imports_no_hardware_ui_or_network_library(path: Path) -> None:
    assert imports(path, top_level_only=False) & HARDWARE == set()


def modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_domain_does_not_depend_on_adapters_the_engine_or_the_uplink() -> None:
    outer = ("kiosk.adapters", "kiosk.engine", "kiosk.app", "kiosk.sim", "kiosk.store", "uplink")
    contract = "uplink.booking"  # pure values: what a booking says
    for path in PURE:
        used = {m for m in modules(path) if not m.startswith(contract)}
        assert not {m for m in used if m.startswith(outer)}, f"{path.name} imports {used}"


@pytest.mark.parametrize(
    "path", sorted(p for p in KIOSK.rglob("*.py") if "booking" not in p.parts), ids=str
)
def test_device_libraries_are_imported_only_inside_functions(path: Path) -> None:
    lazy = LAZY_ONLY
    if "ui" in path.relative_to(KIOSK).parts:
        lazy = LAZY_ONLY - {"kivy"}  # the touchscreen's own modules; nothing outside imports them
    assert imports(path, top_level_only=True) & lazy == set()


def test_kivy_is_imported_only_under_kiosk_ui() -> None:
    for path in KIOSK.rglob("*.py"):
        if "ui" not in path.relative_to(KIOSK).parts:
            assert "kivy" not in imports(path, top_level_only=False), path


def test_importing_the_app_and_the_cli_loads_no_device_library() -> None:
    code = (
        "import sys, kiosk.app, kiosk.__main__;"
        f"print(sorted(m for m in {sorted(LAZY_ONLY)!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
