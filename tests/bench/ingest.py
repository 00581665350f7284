"""Ingest benchmark: events stored and acked per second while many devices drain at once.

    python tests/bench/ingest.py [--devices 200] [--events 50]

A head-office outage is over: `--devices` devices each hold `--events` events and send them all
at once (QoS 1, 32 in flight, as the uplink does); `backoffice receive` processes store them and
ack them. Measured: 1 and 3 receivers on PostgreSQL (`pg_1_events_per_s`, `pg_3_events_per_s`),
1 receiver on SQLite (`sqlite_1_events_per_s`), each from the first publish to the last ack.
Floors of the same run: `raw_delivery_msgs_per_s` (the same messages through the same broker to
one bare paho subscriber, no database) and `pg_raw_insert_rows_per_s` (the same rows inserted in
batches of the receiver's batch_max with psycopg, no MQTT). CPU share per process (receivers,
broker, PostgreSQL, the device simulator) says what bounds each rate.
Devices and receivers use the broker's plain loopback listener (TLS costs the same in every run).
The bar: pg_3 >= 0.5 x min(raw_delivery, pg_raw_insert) and pg_3 >= 0.9 x pg_1.
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from backoffice.config import BackofficeConfig, ReceiverConfig  # noqa: E402
from backoffice.pgstore import PostgresEventStore  # noqa: E402
from branchsim.broker import LocalBroker  # noqa: E402
from configkit import dump_toml  # noqa: E402
from tests.bench import floors  # noqa: E402
from tests.pg import LocalPostgres, unavailable_reason  # noqa: E402
from uplink import topics  # noqa: E402
from uplink.clock import utc_iso  # noqa: E402
from uplink.ids import new_event_id  # noqa: E402
from uplink.messages import Envelope  # noqa: E402
from uplink.session import make_client  # noqa: E402

ACK_WAIT_S = 300


def envelopes(devices: list[str], per_device: int) -> dict[str, list[bytes]]:
    now = utc_iso(datetime(2026, 11, 30, 3, 0, tzinfo=UTC))
    return {
        device: [
            Envelope(
                event_id=new_event_id(),
                device_id=device,
                seq=n + 1,
                type="device.probe",
                type_version=1,
                occurred_at=now,
                clock_synced=True,
                payload={"purpose": "benchmark", "n": n},
            ).to_json()
            for n in range(per_device)
        ]
        for device in devices
    }


class Fleet:
    """Bare paho clients, one per device identity, that publish their backlog and count acks."""

    def __init__(self, broker: LocalBroker, devices: list[str]) -> None:
        self.acked: set[str] = set()
        self._lock = threading.Condition()
        self.clients = {}
        for device in devices:
            client = make_client(device, broker.client_config(device, tls=False))
            client.max_inflight_messages_set(32)
            client.on_socket_register_write = None
            client.on_message = self._on_ack
            subscribed = threading.Event()
            client.on_subscribe = lambda *_, s=subscribed: s.set()
            client.connect("127.0.0.1", broker.plain_port)
            client.loop_start()
            client.subscribe(topics.ack(device), qos=1)
            if not subscribed.wait(10):
                raise SystemExit(f"{device}: ack subscription not confirmed")
            self.clients[device] = client

    def _on_ack(self, _c: object, _u: object, message: Any) -> None:
        ids = json.loads(message.payload)["acked"]
        with self._lock:
            self.acked.update(ids)
            self._lock.notify_all()

    def send(self, backlog: dict[str, list[bytes]]) -> None:
        threads = [
            threading.Thread(
                target=lambda d=device, bodies=bodies: [
                    self.clients[d].publish(topics.events(d), body, qos=1) for body in bodies
                ]
            )
            for device, bodies in backlog.items()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def wait_acked(self, count: int, timeout: float) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: len(self.acked) >= count, timeout)

    def close(self) -> None:
        for client in self.clients.values():
            client.disconnect()
            client.loop_stop()


def postgres_pids() -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/comm"):
        try:
            if stat.read_text().strip() == "postgres":
                pids.append(int(stat.parent.name))
        except OSError:
            continue
    return pids


def cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += floors.cpu_seconds(pid)
        except (OSError, IndexError):
            continue
    return total


def end_session(broker: LocalBroker, client_id: str) -> None:
    client = make_client(client_id, broker.client_config("backoffice", tls=False))
    client.connect("127.0.0.1", broker.plain_port, clean_start=True)
    client.loop_start()
    time.sleep(0.2)
    client.disconnect()
    client.loop_stop()


def run_receivers(
    label: str,
    work: Path,
    broker: LocalBroker,
    store: dict[str, Any],
    receivers: int,
    backlog: dict[str, list[bytes]],
    broker_pid: int,
) -> dict[str, Any]:
    """Start `receivers` processes on `store`, let the fleet drain, return rate and CPU."""
    procs = []
    logs = []
    group = label.replace("_", "-")
    for n in range(1, receivers + 1):
        config = BackofficeConfig.model_validate(
            {
                "broker": broker.client_config("backoffice", tls=False),
                "receiver": ReceiverConfig(receiver_id=f"{group}-{n}", share_group=group),
                **store,
            }
        )
        path = work / f"{label}-{n}.toml"
        path.write_text(dump_toml(config))
        log = work / f"{label}-{n}.log"
        logs.append(log)
        with log.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "backoffice", "receive", "--config", str(path)],
                    cwd=ROOT,
                    stderr=out,
                )
            )
    deadline = time.monotonic() + 60
    while sum("subscribing as share group" in log.read_text() for log in logs) < receivers:
        if time.monotonic() > deadline:
            raise SystemExit(f"{label}: receivers did not subscribe")
        time.sleep(0.05)
    time.sleep(0.5)  # the SUBACKs follow the log line
    fleet = Fleet(broker, list(backlog))
    total = sum(len(b) for b in backlog.values())
    watched = [p.pid for p in procs]
    pg_before = {pid: cpu_of([pid]) for pid in postgres_pids()}
    cpu_before = (cpu_of(watched), cpu_of([broker_pid]), 0.0, floors.cpu_seconds(os.getpid()))
    start = time.perf_counter()
    try:
        fleet.send(backlog)
        if not fleet.wait_acked(total, ACK_WAIT_S):
            raise SystemExit(f"{label}: only {len(fleet.acked)} of {total} acked")
        wall = time.perf_counter() - start
        # Per server process: one that started meanwhile counts from zero, one that ended is
        # left out (rather than counted as negative).
        pg_used = sum(cpu_of([pid]) - pg_before.get(pid, 0.0) for pid in postgres_pids())
        cpu_after = (
            cpu_of(watched),
            cpu_of([broker_pid]),
            pg_used,
            floors.cpu_seconds(os.getpid()),
        )
    finally:
        fleet.close()
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(30)
        # Their sessions would outlive them (session expiry) and have the broker queue the next
        # runs' events for a group no one reads: end them.
        for n in range(1, receivers + 1):
            end_session(broker, f"backoffice-{group}-{n}")
    shares = [round((a - b) / wall, 2) for a, b in zip(cpu_after, cpu_before, strict=True)]
    return {
        f"{label}_events_per_s": round(total / wall),
        f"{label}_cpu_share": {
            "receivers": shares[0],
            "broker": shares[1],
            "postgres": shares[2],
            "devices": shares[3],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--events", type=int, default=50, help="events per device")
    args = parser.parse_args()
    reason = unavailable_reason()
    if reason:
        raise SystemExit(f"ingest benchmark: {reason}")

    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    broker = LocalBroker(work / "broker")
    broker.start()
    assert broker._process is not None
    broker_pid = broker._process.pid
    server = LocalPostgres()
    server.start()
    devices = [f"kiosk-{n}" for n in range(1, args.devices + 1)]
    results: dict[str, Any] = {"devices": args.devices, "events": args.devices * args.events}
    try:
        total = args.devices * args.events
        batch_max = ReceiverConfig().batch_max
        results["pg_raw_insert_rows_per_s"] = round(
            floors.pg_raw_insert_rows_per_s(server.new_database("floor"), total, batch_max)
        )
        results["raw_delivery_msgs_per_s"] = round(
            floors.raw_delivery_msgs_per_s(
                [(broker.client_config(d, tls=False), d, topics.events(d)) for d in devices],
                broker.client_config("backoffice", tls=False),
                [topics.all_events("floor")],
                args.events,
            )
        )
        for label, receivers in (("pg_1", 1), ("pg_3", 3)):
            url = server.new_database(label)
            PostgresEventStore(url).close()  # schema made before the clock starts
            results.update(
                run_receivers(
                    label,
                    work,
                    broker,
                    {"database_url": url},
                    receivers,
                    envelopes(devices, args.events),
                    broker_pid,
                )
            )
        results.update(
            run_receivers(
                "sqlite_1",
                work,
                broker,
                {"database_path": work / "events.db"},
                1,
                envelopes(devices, args.events),
                broker_pid,
            )
        )
    finally:
        server.stop()
        broker.stop()
    floor = min(results["raw_delivery_msgs_per_s"], results["pg_raw_insert_rows_per_s"])
    results["pg_3_over_floor"] = round(results["pg_3_events_per_s"] / floor, 3)
    results["pg_3_over_pg_1"] = round(
        results["pg_3_events_per_s"] / results["pg_1_events_per_s"], 3
    )
    results["pg_3_floor_within_bar"] = results["pg_3_over_floor"] >= 0.5
    results["pg_3_pg_1_within_bar"] = results["pg_3_over_pg_1"] >= 0.9
    print(json.dumps(results))


if __name__ == "__main__":
    main()
