"""Booking API benchmark: what the kiosks' trust-list poll and a refresh cost the back office.

    python tests/bench/trust_list.py [--samples 1000]

The reference booking API on loopback (plain HTTP, one kept-alive connection, as a kiosk's
requests session): the trust list fetched conditionally (`304`, the poll every
`trust_list_interval_s` when nothing changed) and in full (`200`, after a rotation or a
withdrawal, or a refresh for an unknown key). Floor of the same run: a bare TCP echo round trip
on loopback. 1,000 kiosks polling every 15 s make 67 conditional requests a second.
Last line: one JSON object with the medians and p99s in ms and the floor.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from tests.backoffice.bookings.helpers import make_backoffice, serving  # noqa: E402


def timed(samples: int, call: object) -> list[float]:
    out = []
    for _ in range(samples):
        start = time.perf_counter()
        call()  # type: ignore[operator]
        out.append((time.perf_counter() - start) * 1000)
    return out


def summary(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), statistics.quantiles(values, n=100)[98]


def echo_floor(samples: int) -> list[float]:
    """Round trips of 200 bytes over a loopback TCP connection (no HTTP, no Python server)."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            while data := conn.recv(4096):
                conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = socket.create_connection(server.getsockname())
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    payload = b"x" * 200

    def round_trip() -> None:
        client.sendall(payload)
        got = 0
        while got < len(payload):
            got += len(client.recv(4096))

    try:
        return timed(samples, round_trip)
    finally:
        client.close()
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args()
    office = make_backoffice(Path(tempfile.mkdtemp(prefix="bench-trust-")))
    with serving(office) as api, requests.Session() as session:
        url = api.url + "/v1/trust-list"
        etag = session.get(url).headers["ETag"]
        poll = timed(args.samples, lambda: session.get(url, headers={"If-None-Match": etag}))
        full = timed(args.samples, lambda: session.get(url))
    floor = echo_floor(args.samples)
    result = {
        "poll_304_ms_p50": round(summary(poll)[0], 3),
        "poll_304_ms_p99": round(summary(poll)[1], 3),
        "fetch_200_ms_p50": round(summary(full)[0], 3),
        "fetch_200_ms_p99": round(summary(full)[1], 3),
        "floor_tcp_echo_ms_p50": round(summary(floor)[0], 3),
        "samples": args.samples,
    }
    print(f"trust-list poll (304): p50 {result['poll_304_ms_p50']} ms, "
          f"p99 {result['poll_304_ms_p99']} ms")  # fmt: skip
    print(f"trust-list fetch (200): p50 {result['fetch_200_ms_p50']} ms, "
          f"p99 {result['fetch_200_ms_p99']} ms")  # fmt: skip
    print(f"floor, loopback TCP echo: p50 {result['floor_tcp_echo_ms_p50']} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
