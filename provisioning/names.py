"""Device ids that cannot clash: `{branch}-{role}-{n}`, past the CA's valid certificates."""

from __future__ import annotations

import re
from collections.abc import Iterable

from provisioning.errors import Refused
from uplink.branches import (
    BranchIdError,
    UnknownBranchError,
    check_branch_id,
    device_id,
    display_name,
    known_branch,
)


def default_device_id(branch: str, role: str, taken: Iterable[str] = ()) -> str:
    """`{branch}-{role}-{n}` with the lowest n >= 1 not in `taken` (the CA's valid names).

    Raises:
        Refused: `branch` is not in the documented form.
    """
    try:
        check_branch_id(branch)
    except BranchIdError as exc:
        raise Refused(str(exc)) from None
    pattern = re.compile(rf"^{re.escape(branch)}-{re.escape(role)}-(\d+)$")
    used = {int(m.group(1)) for name in taken if (m := pattern.match(name))}
    n = 1
    while n in used:
        n += 1
    return device_id(branch, role, n)


def known(branch: str) -> str:
    """`branch` if the branch table has it (every provision command taking a branch asks).

    Raises:
        Refused: one line naming the known branches, the nearest and the fix.
    """
    try:
        known_branch(branch)
    except UnknownBranchError as exc:
        raise Refused(str(exc)) from None
    return branch


def branch_name(branch: str, given: str | None) -> str:
    """The name printed for `branch`: `given`, else the branch table's.

    Raises:
        Refused: neither: a raw id must never reach a participant.
    """
    name = given or display_name(branch)
    if name is None:
        raise Refused(
            f"branch {branch!r} is not in the branch table (uplink/branches.toml): add it there "
            "(and release) before provisioning its devices"
        )
    return name
