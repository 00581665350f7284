"""The branch offices: one documented id form and one table of display names (branches.toml)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

# The city, then the office: lowercase words of a-z and 0-9 joined by single hyphens, at least
# two words, at most 40 characters (so "{branch}-{role}-{n}" stays within 64 for device ids).
BRANCH_ID = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)+$")
BRANCH_ID_MAX = 40
FORM = (
    "the city, then the office: lowercase words of a-z, 0-9 and '-' between, e.g. jakarta-salemba"
)


class BranchIdError(ValueError):
    """A branch id not in the documented form."""


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
