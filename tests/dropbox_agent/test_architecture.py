"""The dropbox's domain stays pure: no hardware, network or UI library is imported there."""

from __future__ import annotations

import ast
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "dropbox_agent" / "domain"
FORBIDDEN = {
    "gpiozero", "picamera2", "kivy", "escpos", "paho", "cv2", "smbus2", "zxingcpp",
    "requests", "sqlite3", "socket", "threading", "time", "uplink", "dropbox_agent.adapters",
    "dropbox_agent.sim", "dropbox_agent.app",
}  # fmt: skip


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_modules_import_nothing_from_the_outside_world() -> None:
    files = sorted(DOMAIN.glob("*.py"))
    assert len(files) >= 6
    offenders = {
        f"{path.name}: {name}"
        for path in files
        for name in _imports(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)
    }
    assert offenders == set()


def test_only_the_wiring_module_imports_the_simulated_devices() -> None:
    """The simulated twins are chosen by app.py alone; the CLI reaches the simulation runners
    (dropbox_agent/sim/runner.py), which take their devices from app.py."""
    package = DOMAIN.parent
    users = {
        path.relative_to(package).as_posix(): sorted(
            n for n in _imports(path) if n.startswith("dropbox_agent.sim")
        )
        for path in package.rglob("*.py")
        if "sim" not in path.relative_to(package).parts
        and any(n.startswith("dropbox_agent.sim") for n in _imports(path))
    }
    assert set(users) == {"app.py", "__main__.py"}
    assert users["__main__.py"] == ["dropbox_agent.sim.runner"]
