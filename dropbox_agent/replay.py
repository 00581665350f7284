"""Replay the rolling raw input log through the state machine, to settle a dispute."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from dropbox_agent.domain.machine import BoxMachine
from dropbox_agent.domain.model import BoxCounters, Effect, MachineInput, MachineSettings, Record
from dropbox_agent.ports import BoxStore

REPLAY_CODE = "0000-0000"  # slip codes are random: a replay cannot reproduce them


@dataclass(frozen=True)
class Replayed:
    """One event the machine derives again from the logged inputs."""

    wall: str  # wall time (UTC) of the input that produced it
    type: str
    payload: dict[str, Any]


def replay(
    store: BoxStore,
    settings: MachineSettings,
    *,
    boot: str | None = None,
    limit: int = 200_000,
) -> tuple[str, list[tuple[str, MachineInput]], list[Replayed]]:
    """Feed one boot's logged inputs to a fresh machine and collect the events it records.

    Monotonic times compare only within one boot, so a replay covers one boot: the newest in
    the log unless `boot` names another. The counters start from zero (deposit numbers are
    relative to the first logged input) and inputs are taken as inactive before the first
    logged edge; heartbeats are left out.

    Returns:
        (boot id, the inputs as (wall time, input), the derived events).

    Raises:
        ValueError: the log is empty, or has no rows for `boot`.
    """
    rows = store.recent_inputs(limit)
    if not rows:
        raise ValueError("the raw input log is empty: nothing to replay")
    boot = boot or rows[-1][0]
    inputs = [(wall, item) for row_boot, item, wall in rows if row_boot == boot]
    if not inputs:
        boots = sorted({row_boot for row_boot, _, _ in rows})
        raise ValueError(f"no logged inputs for boot {boot!r}; boots in the log: {boots}")
    machine = BoxMachine(
        replace(settings, heartbeat_interval_s=0.0, uv_schedule_interval_s=0.0),
        counters=BoxCounters(),
        initial={},
        t0=inputs[0][1].t,
        code_source=lambda: REPLAY_CODE,
    )
    machine.start()
    derived: list[Replayed] = []
    for wall, item in inputs:
        derived += _records(wall, machine.feed(item))
    # Let the last edges settle (only the debounce: what followed the log is not known).
    settle_s = max(machine.s.debounce_s.values(), default=0.0) * 2 + 0.001
    derived += _records(inputs[-1][0], machine.advance(inputs[-1][1].t + settle_s))
    return boot, inputs, derived


def _records(wall: str, effects: list[Effect]) -> list[Replayed]:
    return [Replayed(wall, e.type, dict(e.payload)) for e in effects if isinstance(e, Record)]
