"""Numbers on the command line are parsed like a config's: not finite, not positive or absurdly
large is one usage line naming the option (exit 2), never an OverflowError's traceback."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from branchsim.branch import main as branchsim
from dropbox_agent.__main__ import main as dropbox_agent
from provisioning.__main__ import main as provision

BAD = ["inf", "nan", "1e308", "-1", "0"]
COMMANDS: dict[str, tuple[Callable[[list[str]], int], list[str]]] = {
    "branchsim --speed": (branchsim, ["--speed"]),
    "branchsim --duration-s": (branchsim, ["--duration-s"]),
    "dropbox-agent simulate --speed": (dropbox_agent, ["simulate", "--speed"]),
    "provision check --timeout": (provision, ["check", "--simulate", "--timeout"]),
}


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_number_out_of_range_is_one_usage_line_and_exit_2(
    command: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main, argv = COMMANDS[command]
    option = argv[-1]
    try:
        code = main([*argv, value])
    except SystemExit as stopped:  # argparse's usage error
        code = stopped.code
    assert code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert option in last and ("at most" in last or "not a number" in last), last
