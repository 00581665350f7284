"""The engine and every command-line tool import and run with Kivy made unimportable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BLOCK_KIVY = "import sys; sys.modules['kivy'] = None\n"  # `import kivy` now raises ImportError


def run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCK_KIVY + code],
        capture_output=True, text=True, timeout=120, cwd=cwd, check=False,
    )  # fmt: skip


def test_the_kiosk_checks_people_in_headless_without_kivy(tmp_path: Path) -> None:
    code = (
        "from kiosk.__main__ import main\n"
        f"rc = main(['checkin', '--simulate', '--demo', '2', '--service', 'JKK', "
        f"'--now', '2026-06-15T09:30:00+07:00', '--out', {str(tmp_path / 'out')!r}])\n"
        "assert rc == 0, rc\n"
        "import kiosk.engine, kiosk.app, kiosk.ui, kiosk.ui.view, kiosk.ui.controller\n"
        "print('kivy' in sys.modules and sys.modules['kivy'] is not None)\n"
    )
    done = run(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
    assert done.stdout.count('"phase": "ticket"') == 3


def test_every_tool_answers_help_without_kivy(tmp_path: Path) -> None:
    code = (
        "import contextlib, io\n"
        "from kiosk.__main__ import main as kiosk\n"
        "from backoffice.__main__ import main as backoffice\n"
        "from provisioning.__main__ import main as provision\n"
        "from dropbox_agent.__main__ import main as dropbox\n"
        "for tool in (kiosk, backoffice, provision, dropbox):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try:\n"
        "            tool(['--help'])\n"
        "        except SystemExit as exc:\n"
        "            assert exc.code == 0, (tool, exc.code)\n"
        "print('ok')\n"
    )
    done = run(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_touchscreen_command_says_kivy_is_missing_instead_of_a_traceback(
    tmp_path: Path,
) -> None:
    code = (
        "from kiosk.__main__ import main\n"
        f"sys.exit(main(['ui', 'gallery', '--out', {str(tmp_path)!r}]))\n"
    )
    done = run(code, tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "pip install" in done.stderr
