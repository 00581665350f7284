"""A device process for the fault suite: records numbered events, printing each one it recorded.

    python -m tests.uplink.fault_sender CONFIG START COUNT PACE_MS

A line "N EVENT_ID" is printed only after record() returned, i.e. after the commit: those are the
events the device promised to deliver. After the last one it waits for the outbox to drain.
"""

from __future__ import annotations

import sys
import time

from configkit import load
from uplink import Uplink, UplinkConfig


def main() -> int:
    config_file, start, count, pace_ms = sys.argv[1], *map(int, sys.argv[2:5])
    uplink = Uplink(load(UplinkConfig, config_file))
    uplink.start()
    for n in range(start, count):
        envelope = uplink.record("device.probe", {"purpose": "test", "n": n})
        print(n, envelope.event_id, flush=True)
        time.sleep(pace_ms / 1000)
    drained = uplink.wait_drained(120)
    print("DRAINED" if drained else "NOT-DRAINED", flush=True)
    uplink.stop()
    return 0 if drained else 1


if __name__ == "__main__":
    sys.exit(main())
