"""`kiosk config check` and `dropbox-agent config check` refuse a branch outside the branch table
(uplink/branches.toml) in one line, as `booking issue` and `provision device init` do."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dropbox_agent.__main__ import main as dropbox_agent
from kiosk.__main__ import main as kiosk
from uplink.branches import table

ROOT = Path(__file__).resolve().parents[1]
TOOLS: dict[str, tuple[Callable[[list[str]], int], Path, str]] = {
    "kiosk": (kiosk, ROOT / "kiosk/examples/kiosk.toml", "booking.branch"),
    "dropbox-agent": (dropbox_agent, ROOT / "dropbox_agent/examples/dropbox.toml", "branch"),
}


def _with_branch(example: Path, folder: Path, branch: str) -> Path:
    text = example.read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if ln.startswith("branch = "))
    path = folder / example.name
    path.write_text(text.replace(line, f'branch = "{branch}"'), encoding="utf-8")
    return path


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_config_check_refuses_a_branch_outside_the_table_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tool: str
) -> None:
    """GIVEN the tool's example config naming jkt-salemba (the old abbreviated form)
    WHEN `config check` reads it
    THEN exit 2 and one line: the file and key, the table, the nearest branch and the fix."""
    main, example, key = TOOLS[tool]
    path = _with_branch(example, tmp_path, "jkt-salemba")
    assert main(["config", "check", str(path)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    line = lines[0]
    assert line.startswith(f"{path}: {key} = 'jkt-salemba': branch 'jkt-salemba' is not in"), line
    assert "is not in the branch table (uplink/branches.toml" in line
    assert "Did you mean 'jakarta-salemba'?" in line
    assert "add the branch to uplink/branches.toml" in line
    assert "Traceback" not in captured.err and "OK" not in captured.out


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_config_check_accepts_every_branch_of_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tool: str
) -> None:
    """Every branch of the table passes (the refusal is the table, not a pattern)."""
    main, example, _ = TOOLS[tool]
    for branch in table():
        path = _with_branch(example, tmp_path, branch)
        assert main(["config", "check", str(path)]) == 0, capsys.readouterr().err
        assert capsys.readouterr().out.strip().endswith(": OK")
