"""Check-in benchmark: a camera frame with a booking QR in, the ticket's ESC/POS bytes out.

    python tests/bench/checkin.py [--checkins 300]

Each check-in: the camera loop's decoder (`build_decoder`) + `CheckinEngine.read_codes`
(verify) -> temperature gate (simulated sensor, zero delay: three stable samples at once) ->
ledger claim -> ticket number -> events in a real uplink `Outbox` -> ticket layout -> ESC/POS
bytes on the simulated printer (no PNG). All stores are real SQLite files (WAL,
synchronous=FULL) in a temporary directory, so every durable write is paid for. Bookings cycle
through the four programmes; one in ten is a collective booking.
Bar (issue 4): checkin_ms_p95 <= 30. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from kiosk.app import build_decoder, build_engine  # noqa: E402
from kiosk.booking import CheckinLedger  # noqa: E402
from kiosk.devices import build_simulated_printer  # noqa: E402
from kiosk.domain.screens import Phase  # noqa: E402
from kiosk.sim.bookings import SimIssuer, token_qr  # noqa: E402
from kiosk.sim.demo import demo_config  # noqa: E402
from kiosk.sim.frames import place  # noqa: E402
from kiosk.sim.thermometer import SimulatedThermometer  # noqa: E402
from kiosk.store import TicketBook  # noqa: E402
from uplink import ManualClock, Outbox  # noqa: E402
from uplink.sink import EventLog  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkins", type=int, default=300)
    args = parser.parse_args()

    now = datetime(2026, 6, 15, 2, 30, tzinfo=UTC)  # 09:30 WIB
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        issuer = SimIssuer()
        config = demo_config(directory, issuer, thermometer={"sample_interval_s": 0})
        clock = ManualClock(now)
        zone = config.booking.zone
        slot = now.astimezone(zone).replace(minute=0)
        services = ("JHT", "JKK", "JKM", "JP")
        frames = []
        for i in range(args.checkins):
            token = issuer.issue(
                f"B{i:07d}",
                branch=config.booking.branch,
                slot_start=slot,
                zone=zone,
                service=services[i % 4],  # type: ignore[arg-type]
                channel="collective" if i % 10 == 0 else "online",
                party_size=12 if i % 10 == 0 else 1,
                masked_name="B*** S****** W*****",
                issued_at=slot - timedelta(days=1),
            )
            frames.append(place(token_qr(token), background=140))
        thermometer = SimulatedThermometer(36.6)
        printer = build_simulated_printer(config, render=False)
        outbox = Outbox(directory / "outbox.db", config.uplink.device_id, clock=clock)
        ledger = CheckinLedger(config.booking.ledger_path)
        book = TicketBook(config.tickets.book_path)
        engine = build_engine(
            config,
            clock=clock,
            thermometer=thermometer,
            printer=printer,
            events=EventLog(outbox=outbox),
            ledger=ledger,
            book=book,
        )
        decoder = build_decoder(config)
        timings: list[float] = []
        failures = 0
        for frame in frames:
            jobs = len(printer.jobs)
            start = time.perf_counter()
            engine.read_codes(decoder.decode(frame).texts)
            screen = engine.settle()
            elapsed = (time.perf_counter() - start) * 1000
            if screen.phase is not Phase.TICKET or len(printer.jobs) != jobs + 1:
                failures += 1
            timings.append(elapsed)
            engine.cancel()
            engine.settle()
            clock.advance(2)
        ticket_bytes = len(printer.jobs[-1].data) if printer.jobs else 0
        book.close()
        ledger.close()
        outbox.close()

    result = {
        "checkin_ms_p50": round(statistics.median(timings), 3),
        "checkin_ms_p95": round(percentile(timings, 95), 3),
        "checkin_ms_max": round(max(timings), 3),
        "checkins": len(timings),
        "failures": failures,
        "ticket_bytes": ticket_bytes,
        "bar_ok": percentile(timings, 95) <= 30,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
