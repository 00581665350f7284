"""How a parallel run (pytest-xdist, `scripts/test.sh`) hands the tests to its workers."""

from __future__ import annotations

from typing import Any

import pytest

# Tests that take several seconds even on a quiet machine (`--durations`), besides those marked
# `slow` or `faults`. Scheduling only: the long tests start first, so that none starts last and
# keeps one worker busy after the others are done. A long test missing here still runs, later.
LONG = (
    "tests/test_config_sweep.py::test_every_value_config_check_accepts",
    "tests/kiosk/ui/test_gallery.py::",
    "tests/test_startup_lines.py::",
    "tests/dropbox_agent/test_end_to_end.py::",
    "tests/uplink/test_fast_validation.py::",
    "tests/kiosk/test_tickets.py::test_two_kiosks_with_reboots",
    "tests/test_example_configs.py::test_kiosk_run_simulate",
    "tests/branchsim/test_sandbox.py::",
    "tests/kiosk/ui/test_run.py::",
    "tests/backoffice/test_bridge.py::",
)

# Tests that run one after another on one worker (node id prefix: group). pytest-xdist's own
# `xdist_group` mark does nothing under pytest 9.2 (it renames node ids the way pytest 8 kept
# them), so the groups are named here.
GROUPS = {
    # The heaviest tests, each kind one at a time as in a run in one process: a config sweep
    # starts SWEEP_PARALLEL tools at once; a fault test runs two brokers, a receiver and three
    # devices and SIGKILLs them; a branch day runs a whole branch. Two of a kind side by side
    # would starve each other's simulations, which run on the wall clock.
    "tests/test_config_sweep.py::test_every_value_config_check_accepts": "config-sweep",
    "tests/faults/": "faults",
    "tests/test_branch_simulation.py::": "branch-day",
    # The gallery is drawn once per process (a module fixture): once in the whole run.
    "tests/kiosk/ui/test_gallery.py::": "kiosk-ui-gallery",
}


def runs_long(item: pytest.Item) -> bool:
    return item.nodeid.startswith(LONG) or any(
        item.get_closest_marker(mark) for mark in ("slow", "faults")
    )


def long_first(items: list[pytest.Item]) -> None:
    """Sort the long tests to the front, in place (stable: the order is otherwise kept)."""
    items.sort(key=lambda item: not runs_long(item))


def group_of(nodeid: str) -> str | None:
    return next((group for prefix, group in GROUPS.items() if nodeid.startswith(prefix)), None)


def make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadgroup` with GROUPS: each group is one unit of work, every other test its
    own; the larger groups go out first, then the tests in collection order (long first)."""
    from xdist.scheduler import LoadScopeScheduling

    class Grouped(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid) or nodeid

    return Grouped(config, log)
