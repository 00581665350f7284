"""A dropbox agent in its own process for the disk-full restart test, driven line by line.

    python -m tests.dropbox_agent.held_child CONFIG START_ISO SLIP_LOG

The agent is wired by `dropbox_agent.app.build` as `dropbox-agent run` wires it (the real
uplink and outbox, the box's database and held-events journal), with simulated pins and a slip
printer that logs, for each slip, whether its deposit's event was in the outbox when the slip
was printed. Its clock is a `ManualClock` started at START_ISO (time is injected). Commands on
stdin, one per line, each answered by one JSON line on stdout:

    deposit        one envelope through the slot
    advance S      S seconds pass
    state          the agent's counts
    kill-after-store TYPE
                   from now on, the process SIGKILLs itself right after the outbox has stored
                   an event of TYPE (a held one: before its journal slot is cleared)
"""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from configkit import load
from dropbox_agent import app
from dropbox_agent.config import DropboxConfig
from dropbox_agent.domain.model import Input
from dropbox_agent.ports import SlipLines
from dropbox_agent.sim.box import SimulatedBox
from receipts import PaperStatus, lines_of
from uplink import ManualClock, Outbox


class LoggingPrinter:
    """Logs `deposit_no stored` per slip to a file on another disk, fsynced at once."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.outbox: Outbox | None = None

    def status(self) -> PaperStatus:
        return PaperStatus.OK

    def print_slip(self, lines: SlipLines) -> None:
        text = " ".join(lines_of(lines))
        number = next(int(word) for word in text.replace("#", " ").split() if word.isdigit())
        stored = self.outbox is not None and number in stored_deposits(self.outbox)
        with self.log.open("a") as out:
            out.write(json.dumps({"deposit_no": number, "stored": stored}) + "\n")
            out.flush()
            os.fsync(out.fileno())

    def close(self) -> None:
        pass


def stored_deposits(outbox: Outbox) -> set[int]:
    rows = [json.loads(row.body) for row in outbox.after(0, 100_000)]
    return {r["payload"]["deposit_no"] for r in rows if r["type"] == "dropbox.deposit"}


def main(config_path: str, start: str, slip_log: str) -> None:
    config = load(DropboxConfig, config_path)
    clock = ManualClock(datetime.fromisoformat(start))
    box = SimulatedBox(config.pins, config.polarity, clock)
    printer = LoggingPrinter(Path(slip_log))
    agent = app.build(config, clock=clock, box=box, printer=printer, uplink_clock=clock)
    assert agent.uplink is not None
    printer.outbox = agent.uplink.outbox
    agent.start()
    say({"started": True, **counts(agent)})
    for line in sys.stdin:
        command, *args = line.split()
        if command == "deposit":
            box.drive(Input.BEAM, True)
            step(agent, clock, 0.2)
            box.drive(Input.BEAM, False)
            step(agent, clock, 0.05)
        elif command == "advance":
            step(agent, clock, float(args[0]))
        elif command == "kill-after-store":
            kill_after_store(agent.uplink.outbox, args[0])
        say(counts(agent))
    agent.close()  # stdin closed: a clean stop


def kill_after_store(outbox: Outbox, type_name: str) -> None:
    """The fault hook: the process dies the moment an event of `type_name` is committed, as a
    power cut between the outbox's commit and whatever the agent does next."""
    record = outbox.record

    def record_then_die(name: str, payload: Any, **kwargs: Any) -> Any:
        envelope = record(name, payload, **kwargs)
        if name == type_name:
            os.kill(os.getpid(), signal.SIGKILL)
        return envelope

    outbox.record = record_then_die  # type: ignore[method-assign]


def step(agent: Any, clock: ManualClock, seconds: float) -> None:
    clock.advance(seconds)
    agent.pump(0)


def counts(agent: Any) -> dict[str, Any]:
    return {
        "counted": agent.machine.counters.last_deposit_no,
        "held": agent.held_events,
        "alerts": agent.state().get("alerts", []),
    }


def say(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(*sys.argv[1:4])
