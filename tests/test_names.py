"""Names that cannot clash: one branch-id form, one table of branch names, device ids
`{branch}-{role}-{n}`, and `provision check` comparing the branch with the back office's."""

from __future__ import annotations

import re
import tomllib
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

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
    branch's name from the table (a branch outside the table is refused, --branch-name or not:
    the back office would refuse its bookings)."""
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
    run = provision(capsys, *unknown, "--branch-name", "KC Jakarta Satu")
    assert run.code == 3 and "'jkt-01' is not in the branch table" in run.err
    assert "jakarta-salemba" in run.err  # the known branches, named
    assert not (tmp_path / "kiosk2/etc/lapak").exists()


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


ROOT = Path(__file__).resolve().parents[1]
# What a technician or an officer reads or copies: the README, the docs, the example configs and
# scenarios, the firmware templates, and the product's own text (help, epilogs, the simulation).
READ_BY_PEOPLE = ("*.md", "*.toml", "*.tmpl", "*.conf", "*.service", "*.sh", "*.py")
NOT_READ = ("tests", ".venv", ".git", "build", "dist", "branch-sim")
# A device id without its branch (`kiosk-1`, `dropbox-2`), and the branch ids written before the
# one form (`jkt-01`, `dps-01`, `jkt-salemba`: a city abbreviated).
OLD_DEVICE_ID = re.compile(r"(?<![\w-])(?:kiosk|dropbox|box)-\d+\b")
OLD_BRANCH_ID = re.compile(r"(?<![\w-])(?:jkt|dps|sby|bdg|mks|jyp|dki)-[a-z0-9]+\b")
# Where a text names a branch: `--branch X`, `--bridge-branch X`, `branch = "X"`, `bridge-X`.
NAMED_BRANCH = re.compile(
    r"--(?:bridge-)?branch[ =]([a-z0-9-]+)"
    r"|\bbranch\s*=\s*\"([a-z0-9-]+)\""
    r"|\bbridge-([a-z0-9]+-[a-z0-9-]+)"
)


def _texts_read_by_people() -> list[Path]:
    found = {p for pattern in READ_BY_PEOPLE for p in ROOT.rglob(pattern)}
    return sorted(
        p for p in found if not set(p.relative_to(ROOT).parts[:-1]) & {*NOT_READ, "__pycache__"}
    )


def test_docs_examples_and_the_simulation_use_ids_that_cannot_clash() -> None:
    """GIVEN every text a technician reads or copies (README, docs, examples, help, simulation)
    WHEN it is searched for device ids and branch ids
    THEN no device id lacks its branch ({branch}-{role}-{n}), no branch id is in an older form,
    and every branch it names is in the branch table."""
    texts = _texts_read_by_people()
    assert ROOT / "README.md" in texts and ROOT / "dropbox_agent/examples/dropbox.toml" in texts
    old: list[str] = []
    unknown: list[str] = []
    for path in texts:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            where = f"{path.relative_to(ROOT)}:{number}"
            old += [f"{where}: {m.group(0)}" for m in OLD_DEVICE_ID.finditer(line)]
            old += [f"{where}: {m.group(0)}" for m in OLD_BRANCH_ID.finditer(line)]
            for match in NAMED_BRANCH.finditer(line):
                branch = next(g for g in match.groups() if g)
                if branch not in table():
                    unknown.append(f"{where}: {branch}")
    assert not old, "write {branch}-{role}-{n} and city-office ids:\n" + "\n".join(old)
    assert not unknown, "name branches of uplink/branches.toml:\n" + "\n".join(unknown)


def test_the_simulated_branch_names_its_devices_by_branch(tmp_path: Path) -> None:
    """GIVEN the branch simulation's kiosks and its dropbox (from the shipped example)
    THEN every device id is {branch}-{role}-{n} of the simulated branch, and the ticket header
    is the branch's name from the table."""
    from branchsim.branch import BRANCH, dropbox_setup, kiosk_setups
    from branchsim.broker import LocalBroker
    from uplink import SimulatedClock

    broker = LocalBroker(tmp_path / "broker")  # not started: only its client settings are used
    clock = SimulatedClock(datetime(2026, 6, 15, 7, 30, tzinfo=ZoneInfo("Asia/Jakarta")), 1.0)
    kiosks = kiosk_setups(tmp_path, broker, clock, 2)
    box = dropbox_setup(tmp_path, broker)
    assert [k.uplink.device_id for k in kiosks] == [f"{BRANCH}-kiosk-1", f"{BRANCH}-kiosk-2"]
    assert [k.booking.kiosk_id for k in kiosks] == [k.uplink.device_id for k in kiosks]
    assert box.uplink.device_id == box.box_id == f"{BRANCH}-dropbox-1"
    assert box.branch == BRANCH
    assert {k.tickets.branch_name for k in kiosks} == {display_name(BRANCH)}


@pytest.mark.parametrize(
    "argv",
    [
        ["device", "init", "--role", "dropbox", "--branch", "jkt-salemba", "--root", "ROOT"],
        ["device", "init", "--role", "kiosk", "--branch", "jkt-salemba", "--root", "ROOT",
         "--branch-name", "KC Jakarta Salemba"],
        ["install", "--role", "dropbox", "--branch", "jkt-salemba", "--root", "ROOT"],
        ["render", "--role", "broker", "--root", "ROOT", "--branch", "jkt-salemba",
         "--central-host", "central.lapak.internal"],
        ["fleet", "acl", "--bridge-branch", "jkt-salemba", "--out", "ROOT"],
    ],
)  # fmt: skip
def test_provision_commands_refuse_a_branch_outside_the_table(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a branch id in the old abbreviated form (a kiosk of it would refuse every booking)
    WHEN any provision command that takes a branch is given it
    THEN it is refused (exit 3) in one line naming the known branches, the nearest and the fix,
    before anything is written."""
    root = tmp_path / "root"
    run = provision(capsys, *[str(root) if a == "ROOT" else a for a in argv])
    assert run.code == 3, run.err
    [line] = run.err.strip().splitlines()
    assert "branch 'jkt-salemba' is not in the branch table (uplink/branches.toml: " in line
    assert "Did you mean 'jakarta-salemba'?" in line and "add the branch to" in line
    assert not root.exists()
