"""Every back-office command that takes a branch id refuses one outside the branch table
(uplink/branches.toml) with one line naming the known branches and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from backoffice.__main__ import main
from backoffice.config import BackofficeConfig
from configkit import dump_toml
from uplink.branches import UnknownBranchError, known_branch, table
from uplink.config import BrokerConfig

ISSUE = ["--service", "jht", "--date", "2099-01-02", "--slot", "09:00-10:00", "--name", "Budi"]


def _booking_config(tmp_path: Path, branches: str = "") -> Path:
    path = tmp_path / "booking.toml"
    path.write_text(
        f'database_path = "{tmp_path / "bookings.db"}"\nkeys_dir = "{tmp_path / "keys"}"\n'
        + (f"branches = [{branches}]\n" if branches else ""),
        encoding="utf-8",
    )
    return path


def _one_line_refusal(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("command", "extra"),
    [
        ("issue", ISSUE),
        ("sample", ["--date", "2099-01-02", "--count", "1", "--out", "OUT"]),
        ("duplicates", ["--date", "2099-01-02"]),
    ],
)
def test_booking_commands_refuse_a_branch_outside_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, extra: list[str]
) -> None:
    """GIVEN a booking back office with its keys
    WHEN a booking command is given jkt-salemba (the old abbreviated form)
    THEN it stops with exit 2 and one line: the known branches, the nearest, and the fix;
    nothing is issued or written."""
    config = str(_booking_config(tmp_path))
    assert main(["booking", "keygen", "--config", config]) == 0
    capsys.readouterr()
    extra = [str(tmp_path / "out") if a == "OUT" else a for a in extra]
    code = main(["booking", command, "--config", config, "--branch", "jkt-salemba", *extra])
    captured = capsys.readouterr()
    line = _one_line_refusal(captured.err)
    assert code == 2 and captured.out == ""
    assert line.startswith(f"backoffice booking {command}: branch 'jkt-salemba' is not in the ")
    assert "uplink/branches.toml" in line and "Did you mean 'jakarta-salemba'?" in line
    assert all(branch in line for branch in table())  # the known branches, named
    assert not (tmp_path / "out").exists()


def test_a_branch_this_back_office_does_not_book_for_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a back office that books for jakarta-salemba only
    WHEN a booking is issued for bali-denpasar (in the table, not served here)
    THEN it is refused in one line naming the config's `branches` as the fix."""
    config = str(_booking_config(tmp_path, '"jakarta-salemba"'))
    main(["booking", "keygen", "--config", config])
    capsys.readouterr()
    code = main(["booking", "issue", "--config", config, "--branch", "bali-denpasar", *ISSUE])
    line = _one_line_refusal(capsys.readouterr().err)
    assert code == 2
    assert "'bali-denpasar' is not served here" in line and "jakarta-salemba" in line
    assert f"add it to {config} `branches`" in line
    served = ["booking", "issue", "--config", config, "--branch", "jakarta-salemba"]
    assert main([*served, *ISSUE]) == 0


def test_a_booking_config_serving_a_branch_outside_the_table_fails_its_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(_booking_config(tmp_path, '"jkt-01"'))
    assert main(["config", "check", config]) == 2
    err = capsys.readouterr().err
    assert "branches" in err and "'jkt-01' is not in the branch table" in err


def test_occupancy_refuses_a_branch_outside_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The retained occupancy of a branch no kiosk listens to is refused before the broker (here
    a port where nothing listens) is tried."""
    config = tmp_path / "backoffice.toml"
    config.write_text(
        dump_toml(
            BackofficeConfig(
                broker=BrokerConfig(host="127.0.0.1", port=1, tls=False),
                database_path=tmp_path / "e.db",
            )
        )
    )
    args = ["occupancy", "--config", str(config), "--branch", "cabang-uji"]
    assert main([*args, "--inside", "1", "--capacity", "2"]) == 2
    line = _one_line_refusal(capsys.readouterr().err)
    assert line.startswith("backoffice occupancy: branch 'cabang-uji' is not in the branch table")


def test_the_known_branch_check_lists_a_large_table_in_one_short_line() -> None:
    with pytest.raises(UnknownBranchError) as refused:
        known_branch("nowhere-x")
    assert "\n" not in str(refused.value)
    assert known_branch("jakarta-salemba").name == "KCP Jakarta Salemba"


def test_a_typo_under_a_narrowed_list_names_the_table_s_branch_and_what_is_served() -> None:
    """GIVEN a back office serving jakarta-salemba of a table of several branches
    WHEN a branch is misspelt THEN the line suggests the nearest branch of the whole table
    (bandung-suci, not served here) and does not present the served list as the table."""
    served = ["jakarta-salemba"]
    with pytest.raises(UnknownBranchError) as refused:
        known_branch("bandung-sucy", served, where="booking.toml `branches`")
    line = str(refused.value)
    assert "Did you mean 'bandung-suci'?" in line
    assert f"uplink/branches.toml has {len(table())}; booking.toml `branches` serves " in line
    assert "(uplink/branches.toml: jakarta-salemba)" not in line
    with pytest.raises(UnknownBranchError, match="Did you mean 'jakarta-salemba'"):
        known_branch("jakarta-salemb", served, where="booking.toml `branches`")
    with pytest.raises(UnknownBranchError) as refused:
        known_branch("bandung-suci", served, where="booking.toml `branches`")
    assert "not served here" in str(refused.value) and "Did you mean" not in str(refused.value)
