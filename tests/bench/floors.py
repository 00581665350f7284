"""Floors for the benchmarks, measured on the same disk, broker and database in the same run."""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

from uplink.config import BrokerConfig
from uplink.session import make_client

# About the size of a probe event's envelope on the wire.
PAYLOAD = json.dumps(
    {
        "schema_version": 1,
        "event_id": "01JDQ00000000000000000000A",
        "device_id": "bench-1",
        "seq": 1,
        "type": "device.probe",
        "type_version": 1,
        "occurred_at": "2026-11-30T03:00:00.000000Z",
        "clock_synced": True,
        "payload": {"purpose": "benchmark", "n": 1},
    }
).encode()


def p50(values: Sequence[float]) -> float:
    return round(statistics.median(values), 3)


def sqlite_commit_ms(directory: Path, samples: int = 300) -> list[float]:
    """One event row inserted and committed with WAL + synchronous=FULL, as the outbox and the
    SQLite store do: the cost of one durable commit on this disk."""
    db = sqlite3.connect(directory / "floor.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, event_id TEXT, body TEXT)")
    times = []
    for n in range(samples):
        start = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t (event_id, body) VALUES (?, ?)", (f"{n:026d}", PAYLOAD))
        db.execute("COMMIT")
        times.append((time.perf_counter() - start) * 1000)
    db.close()
    return times


class _Client:
    """A bare paho client (TLS, the device's certificate) counting PUBACKs."""

    def __init__(self, broker: BrokerConfig, client_id: str, inflight: int = 32) -> None:
        self.acked = 0
        self.changed = threading.Condition()
        self.client = make_client(client_id, broker)
        self.client.max_inflight_messages_set(inflight)
        self.client.on_socket_register_write = None
        self.client.on_publish = self._on_publish
        connected = threading.Event()
        self.client.on_connect = lambda *_: connected.set()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        if not connected.wait(10):
            raise SystemExit(f"{client_id}: no CONNACK")

    def _on_publish(self, *_: Any) -> None:
        with self.changed:
            self.acked += 1
            self.changed.notify_all()

    def wait_acked(self, count: int, timeout: float = 60) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: self.acked >= count, timeout):
                raise SystemExit(f"only {self.acked} of {count} PUBACKs")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def puback_ms(broker: BrokerConfig, client_id: str, topic: str, samples: int = 300) -> list[float]:
    """A bare QoS 1 publish -> PUBACK round trip, one at a time."""
    client = _Client(broker, client_id)
    times = []
    try:
        for n in range(samples):
            start = time.perf_counter()
            client.client.publish(topic, PAYLOAD, qos=1)
            client.wait_acked(n + 1, 10)
            times.append((time.perf_counter() - start) * 1000)
    finally:
        client.close()
    return times


def raw_qos1_msgs_per_s(
    broker: BrokerConfig, client_id: str, topic: str, count: int, inflight: int = 32
) -> float:
    """Bare QoS 1 publishes pipelined (the uplink's window in flight), no durability."""
    client = _Client(broker, client_id, inflight)
    try:
        start = time.perf_counter()
        for _ in range(count):
            client.client.publish(topic, PAYLOAD, qos=1)
        client.wait_acked(count, 120)
        return count / (time.perf_counter() - start)
    finally:
        client.close()


def raw_delivery_msgs_per_s(
    publishers: Sequence[tuple[BrokerConfig, str, str]],
    subscriber: BrokerConfig,
    subscriptions: Sequence[str],
    per_publisher: int,
    subscribers: int = 1,
) -> float:
    """The same messages through the same broker to bare paho subscribers (QoS 1, shared group,
    no database): from the first publish to the last delivery."""
    total = len(publishers) * per_publisher
    received = [0]
    done = threading.Event()
    lock = threading.Lock()

    def on_message(*_: Any) -> None:
        with lock:
            received[0] += 1
            if received[0] >= total:
                done.set()

    subs = []
    for n in range(subscribers):
        client = make_client(f"floor-sub-{n}", subscriber)
        client.on_message = on_message
        subscribed = threading.Event()
        client.on_subscribe = lambda *_, s=subscribed: s.set()  # type: ignore[misc]
        client.connect(subscriber.host, subscriber.port)
        client.loop_start()
        client.subscribe([(topic, 1) for topic in subscriptions])
        if not subscribed.wait(10):
            raise SystemExit("floor subscriber not subscribed")
        subs.append(client)
    pubs = [_Client(config, client_id) for config, client_id, _ in publishers]
    try:
        start = time.perf_counter()
        threads = [
            threading.Thread(
                target=lambda c=c, t=t: [
                    c.client.publish(t, PAYLOAD, qos=1) for _ in range(per_publisher)
                ]
            )
            for c, (_, _, t) in zip(pubs, publishers, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if not done.wait(300):
            raise SystemExit(f"raw delivery: {received[0]} of {total}")
        return total / (time.perf_counter() - start)
    finally:
        for p in pubs:
            p.close()
        for s in subs:
            s.disconnect()
            s.loop_stop()


def pg_raw_insert_rows_per_s(url: str, rows: int, batch: int = 500) -> float:
    """The same rows inserted with psycopg in batches (one transaction each), no MQTT."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE floor_events (device_id text, event_id text, seq bigint, type text,"
            " payload json, PRIMARY KEY (device_id, event_id))"
        )
        conn.commit()
        start = time.perf_counter()
        for first in range(0, rows, batch):
            n = range(first, min(rows, first + batch))
            conn.execute(
                "INSERT INTO floor_events SELECT d, e, s, 'device.probe', p::json FROM unnest("
                "%s::text[], %s::text[], %s::bigint[], %s::text[]) AS u(d, e, s, p)"
                " ON CONFLICT DO NOTHING",
                (
                    [f"bench-{i % 200}" for i in n],
                    [f"{i:026d}" for i in n],
                    list(n),
                    [PAYLOAD.decode()] * len(n),
                ),
            )
            conn.commit()
        return rows / (time.perf_counter() - start)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process (Linux) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")
