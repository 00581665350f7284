"""Names that cannot clash: one branch-id form, one table of branch names, device ids
`{branch}-{role}-{n}`, and `provision check` comparing the branch with the back office's."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from backoffice.bookings import BookingApi
from configkit import check_time_zone
from provisioning import check
from provisioning.errors import Refused
from provisioning.names import default_device_id
from tests.backoffice.bookings.helpers import make_backoffice
from tests.provisioning.helpers import init_args, provision
from uplink.branches import BRANCH_ID_MAX, BranchIdError, check_branch_id, display_name, table
from uplink.clock import SystemClock


def test_the_branch_table_is_in_the_documented_form() -> None:
    assert "jakarta-salemba" in table()
    for branch in table().values():
        assert check_branch_id(branch.branch_id) == branch.branch_id
        assert check_time_zone(branch.timezone) == branch.timezone
        assert 1 <= len(branch.name) <= 32  # printed on a ticket line
        assert branch.branch_id not in branch.name  # a name, not an id


@pytest.mark.parametrize(
    "bad", ["jakarta", "Jakarta-salemba", "jakarta--salemba", "-jakarta-x", "jkt 01", "a-" * 21]
)
def test_branch_ids_off_the_form_are_refused_with_the_form(bad: str) -> None:
    with pytest.raises(BranchIdError, match="the city, then the office"):
        check_branch_id(bad)
    assert len("a-" * 21) > BRANCH_ID_MAX


def test_display_names_come_from_the_table_only() -> None:
    assert display_name("jakarta-salemba") == "KCP Jakarta Salemba"
    assert display_name("jkt-01") is None


def test_default_ids_skip_the_numbers_the_ca_has() -> None:
    taken = ["jakarta-salemba-kiosk-1", "jakarta-salemba-kiosk-3", "bali-denpasar-kiosk-2"]
    assert default_device_id("jakarta-salemba", "kiosk", taken) == "jakarta-salemba-kiosk-2"
    assert default_device_id("bali-denpasar", "dropbox", taken) == "bali-denpasar-dropbox-1"
    with pytest.raises(Refused, match="the city, then the office"):
        default_device_id("dps", "kiosk")


def _without_id(args: list[str | Path]) -> list[str | Path]:
    at = args.index("--id")
    return args[:at] + args[at + 2 :]


def test_two_branches_provision_their_first_devices_without_clashing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN one fleet CA
    WHEN two dropboxes at one branch and one at another are provisioned without --id
    THEN they get distinct ids {branch}-{role}-{n}, and a kiosk's ticket header is the
    branch's name from the table (an unknown branch needs --branch-name)."""
    ca = tmp_path / "ca"
    assert provision(capsys, "ca", "init", "--dir", ca).code == 0
    made = []
    for n, branch in enumerate(["jakarta-salemba", "jakarta-salemba", "bali-denpasar"]):
        args = _without_id(init_args("dropbox", "unused", tmp_path / f"box{n}", ca))
        args[args.index("--branch") + 1] = branch
        run = provision(capsys, *args)
        assert run.code == 0, run.err
        written = tomllib.loads((tmp_path / f"box{n}/etc/lapak/device.toml").read_text())
        made.append(written["device_id"])
    assert made == [
        "jakarta-salemba-dropbox-1",
        "jakarta-salemba-dropbox-2",
        "bali-denpasar-dropbox-1",
    ]

    kiosk = _without_id(init_args("kiosk", "unused", tmp_path / "kiosk", ca))
    assert provision(capsys, *kiosk).code == 0
    config = tomllib.loads((tmp_path / "kiosk/etc/lapak/kiosk.toml").read_text())
    assert config["tickets"]["branch_name"] == "KCP Jakarta Salemba"
    assert config["uplink"]["device_id"] == "jakarta-salemba-kiosk-1"

    unknown = _without_id(init_args("kiosk", "unused", tmp_path / "kiosk2", ca))
    unknown[unknown.index("--branch") + 1] = "jkt-01"
    run = provision(capsys, *unknown)
    assert run.code != 0 and "--branch-name" in run.err
    assert not (tmp_path / "kiosk2/etc/lapak/kiosk.toml").exists()


def _branch_context(api: BookingApi, branch: str) -> check.CheckContext:
    return check.CheckContext(
        role="kiosk",
        device_id=f"{branch}-kiosk-1",
        uplink=None,  # type: ignore[arg-type]
        broker=None,  # type: ignore[arg-type]
        clock=SystemClock(),
        hardware=check.Hardware(),
        api_url=api.url,
        branch=branch,
        facts={"api_ok": True},
    )


def test_provision_check_compares_the_branch_with_the_back_offices(tmp_path: Path) -> None:
    """GIVEN a back office that books for jakarta-salemba only
    WHEN a kiosk of jakarta-salemba, of jkt-salemba and of bali-denpasar are checked
    THEN the first passes; the others fail, the near miss with 'did you mean', each with the fix."""
    office = make_backoffice(tmp_path)
    office.config = office.config.model_copy(update={"branches": ["jakarta-salemba"]})
    api = BookingApi(office.config, office.issuer)
    api.start()
    try:
        good = check.branch_agrees(_branch_context(api, "jakarta-salemba"))
        near = check.branch_agrees(_branch_context(api, "jkt-salemba"))
        other = check.branch_agrees(_branch_context(api, "bali-denpasar"))
        down = check.branch_agrees(replace(_branch_context(api, "jkt-salemba"), facts={}))
    finally:
        api.stop()
    assert good.status == "pass"
    assert near.status == "fail" and "did you mean 'jakarta-salemba'" in near.fix
    assert "provision device init --branch" in near.fix
    assert other.status == "fail" and "'bali-denpasar'" in other.detail
    assert down.status == "skip"
