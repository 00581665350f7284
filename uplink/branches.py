"""The branch offices: one documented id form and one table of display names (branches.toml)."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from importlib import resources

from uplink.errors import UplinkError

# The city, then the office: lowercase words of a-z and 0-9 joined by single hyphens, at least
# two words, at most 40 characters (so "{branch}-{role}-{n}" stays within 64 for device ids).
BRANCH_ID = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)+$")
BRANCH_ID_MAX = 40
FORM = (
    "the city, then the office: lowercase words of a-z, 0-9 and '-' between, e.g. jakarta-salemba"
)


class BranchIdError(UplinkError, ValueError):
    """A branch id not in the documented form."""


class UnknownBranchError(BranchIdError):
    """A branch id that is not in the branch table (or not among the branches served here)."""


@dataclass(frozen=True)
class Branch:
    """One branch office."""

    branch_id: str
    name: str
    timezone: str


def device_id(branch: str, role: str, n: int) -> str:
    """The device id `{branch}-{role}-{n}` ("jakarta-salemba-kiosk-1"): unique across the fleet
    because branch ids are."""
    return f"{branch}-{role}-{n}"


def check_branch_id(value: str) -> str:
    """`value` if it is a branch id in the documented form, else BranchIdError saying the form."""
    if len(value) > BRANCH_ID_MAX or not BRANCH_ID.fullmatch(value):
        raise BranchIdError(f"branch id {value!r} is not allowed: write {FORM}")
    return value


@cache
def table() -> dict[str, Branch]:
    """Every branch in the shipped table, by id."""
    text = resources.files("uplink").joinpath("branches.toml").read_text(encoding="utf-8")
    return {
        branch_id: Branch(branch_id, str(entry["name"]), str(entry["timezone"]))
        for branch_id, entry in tomllib.loads(text).items()
    }


def display_name(branch_id: str) -> str | None:
    """The name a person reads for `branch_id` ("KCP Jakarta Salemba"), None when unknown."""
    branch = table().get(branch_id)
    return None if branch is None else branch.name


def known_branch(branch_id: str, served: Collection[str] = (), *, where: str = "") -> Branch:
    """The table's entry for `branch_id`; the one check of every command that takes a branch.

    Args:
        branch_id: The branch id given.
        served: The branches this installation serves (a back office's `branches`); empty:
            every branch in the table.
        where: The setting that limits `served` (named in the message), e.g. "booking.toml
            `branches`".

    Raises:
        UnknownBranchError: one line naming the known branches, the nearest one and the fix.
    """
    branches = table()
    known = sorted(b for b in branches if not served or b in served)
    if branch_id in known:
        return branches[branch_id]
    served_close = difflib.get_close_matches(branch_id, known, n=1, cutoff=0.5)
    here = where or "this installation"
    if branch_id in branches:
        hint = f" Did you mean {served_close[0]!r}?" if served_close else ""
        raise UnknownBranchError(
            f"branch {branch_id!r} is not served here ({here}: "
            f"{_listed(known)}).{hint} Give one of those, or add it to {where or 'them'}"
        )
    # Not in the table: the nearest served branch, else the nearest in the whole table (which
    # then says it is not served), and never the table as if it held only the served ones.
    close = served_close or difflib.get_close_matches(branch_id, list(branches), n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    listing = (
        f"uplink/branches.toml has {len(branches)}; {here} serves {_listed(known)}"
        if served
        else f"uplink/branches.toml: {_listed(known)}"
    )
    try:
        check_branch_id(branch_id)
    except BranchIdError as exc:
        raise UnknownBranchError(f"{exc}; the branch table ({listing}).{hint}") from None
    raise UnknownBranchError(
        f"branch {branch_id!r} is not in the branch table ({listing}).{hint} Give one of those, "
        "or add the branch to uplink/branches.toml (and release) before serving it"
    )


def _listed(ids: list[str], most: int = 12) -> str:
    """`ids` for one line: all of them, or the first `most` and how many more (a fleet's table
    has hundreds)."""
    shown = ", ".join(ids[:most])
    return shown if len(ids) <= most else f"{shown} and {len(ids) - most} more"
