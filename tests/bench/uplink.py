"""Uplink benchmark: event recorded -> back-office ack latency, and drain rate after an outage.

    python tests/bench/uplink.py [--samples 1000] [--drain 10000]

Loopback mosquitto with the fleet's TLS config, the back-office receiver in its own process,
durability settings as shipped (outbox WAL + synchronous=FULL, store synchronous=FULL).
Floors of the same run, on the same disk and broker: floor_commit_ms_p50 (one synchronous=FULL
SQLite commit of one event row), floor_puback_ms_p50 (a bare paho QoS 1 publish -> PUBACK) and
raw_qos1_msgs_per_s (bare pipelined QoS 1 publishes, no durability). The bar:
ack_p50_ms <= 3 x (2 x floor_commit + 2 x floor_puback) and
drain_transfer_events_per_s (from the first ack on) >= 0.5 x raw_qos1_msgs_per_s. A draining
device joins events into batched messages once the back office offers it (uplink.batches):
drain_messages and drain_events_per_message say how many publishes carried the drain.
Last line: one JSON object with ack_p50_ms, ack_p99_ms, drain_events_per_s, the floors and ratios.
"""

from __future__ import annotations

import argparse
import json
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
from branchsim.broker import LocalBroker  # noqa: E402
from configkit import dump_toml  # noqa: E402
from tests.bench import floors  # noqa: E402
from uplink import Uplink, UplinkConfig, topics  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--drain", type=int, default=10_000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-uplink-"))
    broker = LocalBroker(work / "broker")
    broker.start()
    # Floors first, while no receiver is subscribed: the probes reach no one.
    floor_commit = floors.sqlite_commit_ms(work)
    floor_client = broker.client_config("floor-1")
    floor_topic = topics.events("floor-1")
    floor_puback = floors.puback_ms(floor_client, "floor-1", floor_topic)
    raw_qos1 = floors.raw_qos1_msgs_per_s(floor_client, "floor-1", floor_topic, args.drain)
    bo_file = work / "backoffice.toml"
    bo_file.write_text(
        dump_toml(
            BackofficeConfig(
                broker=broker.client_config("backoffice"), database_path=work / "backoffice.db"
            )
        )
    )
    receiver = subprocess.Popen(
        [sys.executable, "-m", "backoffice", "receive", "--config", str(bo_file)],
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    uplink = Uplink(
        UplinkConfig(
            device_id="bench-1",
            broker=broker.client_config("bench-1"),
            outbox_path=work / "outbox.db",
            heartbeat_interval_s=0,
            ack_timeout_s=10,
            reconnect_min_s=0.05,
            reconnect_max_s=0.2,
        )
    )
    acked = threading.Event()
    uplink.add_ack_listener(lambda _ids: acked.set())
    uplink.start()
    try:
        # Warm up until the receiver is subscribed (the first probe is acked).
        uplink.record("device.probe", {"purpose": "benchmark"})
        if not uplink.wait_drained(30):
            raise SystemExit("no ack from the back office within 30 s")

        latencies = []
        for n in range(args.samples):
            acked.clear()
            start = time.perf_counter()
            uplink.record("device.probe", {"purpose": "benchmark", "n": n})
            if not acked.wait(10):
                raise SystemExit(f"sample {n} was not acked within 10 s")
            latencies.append((time.perf_counter() - start) * 1000)

        broker.stop()
        record_start = time.perf_counter()
        for n in range(args.drain):
            uplink.record("device.probe", {"purpose": "benchmark", "n": n})
        record_s = time.perf_counter() - record_start
        messages_before = uplink.stats.messages
        first_ack: list[float] = []
        uplink.add_ack_listener(lambda _ids: first_ack or first_ack.append(time.perf_counter()))
        drain_start = time.perf_counter()
        broker.start()
        if not uplink.wait_drained(300):
            raise SystemExit(f"drain incomplete: {uplink.pending()} still pending")
        drain_end = time.perf_counter()
        drain_s = drain_end - drain_start
        drain_messages = uplink.stats.messages - messages_before
    finally:
        uplink.stop()
        receiver.send_signal(signal.SIGTERM)
        receiver.wait(30)
        broker.stop()

    ack_p50 = statistics.median(latencies)
    ack_bar = 3 * (2 * statistics.median(floor_commit) + 2 * statistics.median(floor_puback))
    transfer = args.drain / (drain_end - first_ack[0])
    print(
        json.dumps(
            {
                "ack_p50_ms": round(ack_p50, 3),
                "ack_p99_ms": round(percentile(latencies, 99), 3),
                "ack_max_ms": round(max(latencies), 3),
                "samples": len(latencies),
                "record_during_outage_events_per_s": round(args.drain / record_s),
                "drain_events": args.drain,
                "drain_s": round(drain_s, 3),
                "drain_events_per_s": round(args.drain / drain_s),
                # Of drain_s: the broker starting and the receiver resubscribing (its reconnect
                # timer) until the first ack; the rest is the transfer itself.
                "drain_first_ack_s": round(first_ack[0] - drain_start, 3),
                "resent": uplink.stats.resent,
                "drain_transfer_events_per_s": round(transfer),
                # MQTT publishes of the drain: the first window goes one event per message, then
                # up to uplink.batches.BATCH_MAX_EVENTS per message once acks offer batches.
                "drain_messages": drain_messages,
                "drain_events_per_message": round(args.drain / max(1, drain_messages), 1),
                "floor_commit_ms_p50": floors.p50(floor_commit),
                "floor_puback_ms_p50": floors.p50(floor_puback),
                "raw_qos1_msgs_per_s": round(raw_qos1),
                "ack_bar_ms": round(ack_bar, 3),
                "ack_p50_within_bar": ack_p50 <= ack_bar,
                "drain_transfer_over_raw_qos1": round(transfer / raw_qos1, 3),
                "drain_transfer_within_bar": transfer >= 0.5 * raw_qos1,
            }
        )
    )


if __name__ == "__main__":
    main()
