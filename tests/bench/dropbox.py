"""Dropbox benchmark: beam edge -> back-office ack latency, idle CPU and memory of the agent.

    python tests/bench/dropbox.py [--samples 500] [--idle-s 30]

Loopback mosquitto with the fleet's TLS config (branchsim.LocalBroker) and the
back-office Receiver, as in tests/conftest.py; durability as shipped (outbox synchronous=FULL).

1. Latency: the agent runs in this process on MockFactory pins with the real clock. For each
   sample an envelope blocks the beam, then the beam clears; the clock starts at that clearing
   edge (the edge that completes a deposit) and stops when the uplink removes the deposit's
   event from the outbox on the back office's ack. It includes the beam debounce (5 ms).
2. Idle and memory: `dropbox-agent simulate` runs as its own process (example config, 200
   deposits, then nothing); after the backlog is acked its CPU time is read from /proc over
   `--idle-s` seconds, then its resident memory.

Last line: one JSON object with deposit_to_ack_p99_ms, idle_cpu_percent, rss_mb and details.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from backoffice.config import BackofficeConfig  # noqa: E402
from backoffice.receiver import Receiver  # noqa: E402
from backoffice.store import SqliteEventStore  # noqa: E402
from branchsim.broker import LocalBroker  # noqa: E402
from configkit import dump_toml, load  # noqa: E402
from dropbox_agent.config import CollectionConfig, DropboxConfig  # noqa: E402
from dropbox_agent.domain.model import Input, Record  # noqa: E402
from dropbox_agent.sim.runner import SimulatedBoxKit  # noqa: E402
from uplink import Envelope  # noqa: E402

EXAMPLE = ROOT / "dropbox_agent" / "examples" / "dropbox.toml"
BARS = {"deposit_to_ack_p99_ms": 15.0, "idle_cpu_percent": 1.0, "rss_mb": 60.0}
IDLE_SCENARIO = """
description = "benchmark: a burst of deposits, then an idle box"
end_after_s = 3600
[[steps]]
at_s = 0.5
action = "deposit"
count = 200
every_s = 0.02
hold_ms = 20
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def box_config(work: Path, broker: LocalBroker, device_id: str) -> DropboxConfig:
    """The shipped example, pointed at the local broker and a scratch folder."""
    example = load(DropboxConfig, EXAMPLE)
    data = example.model_dump()
    data.update(
        box_id=device_id,
        local_db_path=work / f"{device_id}-box.db",
        # configkit.dump_toml cannot write [[collection.officers]] yet: key switch only.
        collection=CollectionConfig().model_dump(),
    )
    data["uplink"].update(
        device_id=device_id,
        broker=broker.client_config(device_id).model_dump(),
        outbox_path=work / f"{device_id}-outbox.db",
    )
    return DropboxConfig.model_validate(data)


def measure_latency(config: DropboxConfig, samples: int) -> dict[str, float]:
    kit = SimulatedBoxKit(config, speed=1.0)  # real-time clock, MockFactory pins
    agent, box = kit.agent, kit.hands.box
    uplink = agent.uplink
    assert uplink is not None
    recorded: dict[str, float] = {}
    acked: dict[str, float] = {}
    deposit_ids: list[str] = []
    got_ack = threading.Condition()

    def on_record(record: Record, envelope: Envelope) -> None:
        if record.type == "dropbox.deposit":
            recorded[envelope.event_id] = time.perf_counter()
            deposit_ids.append(envelope.event_id)

    def on_ack(ids: list[str]) -> None:
        now = time.perf_counter()
        with got_ack:
            for event_id in ids:
                acked.setdefault(event_id, now)
            got_ack.notify_all()

    agent.add_record_listener(on_record)
    uplink.add_ack_listener(on_ack)
    stop = threading.Event()
    loop = threading.Thread(target=agent.run, args=(stop,), name="bench-agent")
    loop.start()
    if not _wait(lambda: uplink.connected, 30):
        raise SystemExit("the agent did not connect to the broker within 30 s")
    uplink.record("device.probe", {"purpose": "benchmark"})
    if not uplink.wait_drained(30):
        raise SystemExit("the back office did not ack within 30 s (is the receiver up?)")

    edge_to_ack: list[float] = []
    edge_to_record: list[float] = []
    try:
        for n in range(samples + 20):  # the first 20 warm up
            box.drive(Input.BEAM, True)
            time.sleep(0.02)  # the envelope in the slot
            index = len(deposit_ids)
            edge = time.perf_counter()
            box.drive(Input.BEAM, False)

            def done(i: int = index) -> bool:
                return len(deposit_ids) > i and deposit_ids[i] in acked

            with got_ack:
                ok = got_ack.wait_for(done, 10)
            if not ok:
                raise SystemExit(f"deposit {n + 1} was not acked within 10 s")
            event_id = deposit_ids[index]
            if n >= 20:
                edge_to_ack.append((acked[event_id] - edge) * 1000)
                edge_to_record.append((recorded[event_id] - edge) * 1000)
            time.sleep(0.005)
    finally:
        stop.set()
        loop.join(10)
    record_to_ack = [a - r for a, r in zip(edge_to_ack, edge_to_record, strict=True)]
    return {
        "deposit_to_ack_p50_ms": round(statistics.median(edge_to_ack), 3),
        "deposit_to_ack_p99_ms": round(percentile(edge_to_ack, 99), 3),
        "deposit_to_ack_max_ms": round(max(edge_to_ack), 3),
        "edge_to_record_p50_ms": round(statistics.median(edge_to_record), 3),
        "edge_to_record_p99_ms": round(percentile(edge_to_record, 99), 3),
        "record_to_ack_p50_ms": round(statistics.median(record_to_ack), 3),
        "record_to_ack_p99_ms": round(percentile(record_to_ack, 99), 3),
        "beam_debounce_ms": config.timings.beam_debounce_ms,
        "samples": len(edge_to_ack),
    }


def measure_idle(
    config: DropboxConfig, work: Path, store: SqliteEventStore, idle_s: float
) -> dict[str, float]:
    config_file = work / "idle.toml"
    config_file.write_text(dump_toml(config))
    scenario = work / "idle-scenario.toml"
    scenario.write_text(IDLE_SCENARIO)
    log = (work / "idle-agent.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "dropbox_agent", "simulate", "--config", str(config_file),
         "--scenario", str(scenario)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        device = config.uplink.device_id

        def backlog_acked() -> bool:
            rows = store.events_after(0, 100_000, "dropbox.deposit")
            return sum(1 for r in rows if r.device_id == device) >= 200

        if not _wait(backlog_acked, 120):
            raise SystemExit("the idle agent's 200 deposits did not arrive within 120 s")
        time.sleep(2.0)  # let the last acks and the state message go out
        ticks = os.sysconf("SC_CLK_TCK")
        before, start = _cpu_ticks(process.pid), time.monotonic()
        time.sleep(idle_s)
        after, elapsed = _cpu_ticks(process.pid), time.monotonic() - start
        status = Path(f"/proc/{process.pid}/status").read_text()
        threads = int(_status_kb(status, "Threads"))
        return {
            "idle_cpu_percent": round((after - before) / ticks / elapsed * 100, 3),
            "idle_s": round(elapsed, 1),
            "rss_mb": round(_status_kb(status, "VmRSS") / 1024, 1),
            "rss_peak_mb": round(_status_kb(status, "VmHWM") / 1024, 1),
            "agent_threads": threads,
        }
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        log.close()


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _status_kb(status: str, key: str) -> float:
    for line in status.splitlines():
        if line.startswith(key + ":"):
            return float(line.split()[1])
    raise SystemExit(f"{key} missing from /proc/PID/status")


def _wait(condition: object, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--idle-s", type=float, default=30.0)
    parser.add_argument(
        "--receiver",
        choices=["process", "inline"],
        default="process",
        help="back-office receiver in its own process (default) or in this one",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-dropbox-", ignore_cleanup_errors=True) as tmp:
        result = run(Path(tmp), args)
    print(json.dumps(result))


def run(work: Path, args: argparse.Namespace) -> dict[str, object]:
    """Both measurements in `work` (broker, back office, agents' files)."""
    broker = LocalBroker(work / "broker")
    broker.start()
    bo_config = BackofficeConfig(
        broker=broker.client_config("backoffice"), database_path=work / "backoffice.db"
    )
    if args.receiver == "process":
        # The back office is another machine: give it its own interpreter (and GIL).
        bo_file = work / "backoffice.toml"
        bo_file.write_text(dump_toml(bo_config))
        receiver_process = subprocess.Popen(
            [sys.executable, "-m", "backoffice", "receive", "--config", str(bo_file)],
            cwd=ROOT, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        receiver = None
    else:
        receiver_process = None
        receiver_store = SqliteEventStore(bo_config.database_path)
        receiver = Receiver(bo_config, receiver_store)
        receiver.start()
        if not receiver.wait_ready(10):
            raise SystemExit("the back-office receiver did not subscribe")
    store = SqliteEventStore(bo_config.database_path)  # read side, for the idle part
    try:
        result: dict[str, object] = dict(
            measure_latency(box_config(work, broker, "bench-box"), args.samples)
        )
        result.update(
            measure_idle(box_config(work, broker, "bench-idle"), work, store, args.idle_s)
        )
    finally:
        if receiver is not None:
            receiver.stop()
            receiver_store.close()
        if receiver_process is not None:
            receiver_process.send_signal(signal.SIGTERM)
            receiver_process.wait(30)
        store.close()
        broker.stop()
    result["receiver"] = args.receiver
    result["bars"] = BARS
    result["meets_bars"] = {key: float(result[key]) <= bar for key, bar in BARS.items()}  # type: ignore[arg-type]
    return result


if __name__ == "__main__":
    main()
