"""A kiosk against the real broker and back-office receiver: events, state and occupancy."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from datetime import time as time_of_day
from pathlib import Path

from paho.mqtt.client import Client

from backoffice.bookings.sample import issue_sample_day
from backoffice.receiver import Receiver
from branchsim.broker import LocalBroker
from kiosk.app import build
from kiosk.config import KioskConfig
from kiosk.devices import build_simulated_printer
from kiosk.domain import events
from kiosk.domain.screens import Phase
from kiosk.runtime import Kiosk
from kiosk.sim.bookings import SimIssuer, token_qr
from kiosk.sim.camera import ScriptedCamera
from kiosk.sim.demo import DEMO_BRANCH, demo_bookings, demo_config
from kiosk.sim.driver import drive
from kiosk.sim.frames import place
from kiosk.sim.runner import run_simulated
from kiosk.sim.thermometer import SimulatedThermometer
from receipts.sim import SimulatedPrinter
from tests.conftest import UplinkFactory
from tests.kiosk.rig import NOW
from uplink import BrokerConfig, ManualClock, topics
from uplink.session import make_client

DEADLINE_S = 20.0  # a safety net: every wait below ends as soon as its condition holds


def eventually(condition: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + DEADLINE_S
    ready = threading.Event()
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        ready.wait(0.05)


def publish_retained(broker: BrokerConfig, topic: str, payload: dict[str, object]) -> None:
    """Publish as the back office (the only identity allowed to write occupancy)."""
    client: Client = make_client("backoffice-occupancy-test", broker)
    client.on_socket_register_write = None
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        info = client.publish(topic, json.dumps(payload), qos=1, retain=True)
        info.wait_for_publish(DEADLINE_S)
        assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


def config_on(
    broker: LocalBroker,
    directory: Path,
    device: str,
    issuer: SimIssuer | None = None,
    *,
    trust_anchor: str | None = None,
    trust_list_path: Path | None = None,
) -> KioskConfig:
    """The demo kiosk `device` reporting to `broker` as itself, trusting `issuer` (or the
    `trust_anchor` and `trust_list_path` given)."""
    return demo_config(
        directory,
        issuer,
        trust_anchor=trust_anchor,
        trust_list_path=trust_list_path,
        kiosk_id=device,
        broker=broker.client_config(device).model_dump(),
    )


def kiosk_on_broker(
    broker: LocalBroker, make_uplink: UplinkFactory, directory: Path, device: str
) -> tuple[Kiosk, SimIssuer, ManualClock, ScriptedCamera, SimulatedPrinter]:
    issuer = SimIssuer()
    config = config_on(broker, directory / "kiosk", device, issuer)
    clock = ManualClock(NOW)
    camera = ScriptedCamera()
    printer = build_simulated_printer(config, out_dir=directory / "tickets")
    kiosk = build(
        config,
        clock=clock,
        camera=camera,
        thermometer=SimulatedThermometer(36.6),
        printer=printer,
        uplink=make_uplink(device),
        online=False,
    )
    return kiosk, issuer, clock, camera, printer


def test_a_check_in_reaches_the_back_office_with_the_kiosk_state(
    broker: LocalBroker, backoffice: Receiver, make_uplink: UplinkFactory, tmp_path: Path
) -> None:
    device = "kiosk-e2e-1"
    kiosk, issuer, clock, camera, printer = kiosk_on_broker(broker, make_uplink, tmp_path, device)
    stop = threading.Event()
    kiosk.start(stop)
    try:
        # WHEN a participant shows a booking QR to the camera
        booking = kiosk.config.booking
        slot = clock.now().astimezone(booking.zone).replace(minute=0, second=0, microsecond=0)
        token = issuer.issue("E2E0001", branch=booking.branch, slot_start=slot, zone=booking.zone)
        camera.show(place(token_qr(token), background=140))
        kiosk.step()
        drive(kiosk.engine, clock)
        kiosk.step()

        # THEN a ticket prints, and the back office has every event and the kiosk's state
        assert kiosk.engine.screen.phase is Phase.TICKET
        assert len(printer.jobs) == 1
        assert kiosk.uplink.wait_drained(DEADLINE_S)
        store = backoffice.store
        for type_name in (events.TEMPERATURE, events.ACCEPTED, events.TICKET):
            assert store.count(type_name) == 1, type_name  # type: ignore[attr-defined]

        def state() -> dict[str, object] | None:
            rows = [d for d in store.devices() if d.device_id == device]  # type: ignore[attr-defined]
            return rows[0].state if rows else None

        summary = "1 tiket hari ini · tiket diberikan / 1 tickets today"
        eventually(lambda: (state() or {}).get("summary") == summary, "the kiosk's state")
        assert (state() or {})["alerts"] == []
    finally:
        stop.set()
        kiosk.close()


def test_the_branch_occupancy_reaches_the_kiosk_and_says_wait_outside(
    broker: LocalBroker, backoffice: Receiver, make_uplink: UplinkFactory, tmp_path: Path
) -> None:
    kiosk, _, clock, _, _ = kiosk_on_broker(broker, make_uplink, tmp_path, "kiosk-e2e-2")
    # GIVEN the back office says the branch is full (retained: kiosks get it when they connect)
    publish_retained(
        broker.client_config("backoffice"),
        topics.occupancy(kiosk.config.booking.branch),
        {"inside": 37, "capacity": 37, "at": NOW.isoformat()},
    )
    stop = threading.Event()
    kiosk.start(stop)
    try:
        # WHEN the kiosk is connected
        eventually(lambda: kiosk.engine.occupancy.is_full(clock.now()), "the occupancy message")
        kiosk.step()

        # THEN the welcome screen tells people to wait outside
        assert kiosk.engine.screen.phase is Phase.IDLE
        assert kiosk.engine.screen.wait_outside
    finally:
        stop.set()
        kiosk.close()


def test_run_simulated_checks_sample_bookings_in_against_the_real_broker(
    broker: LocalBroker, backoffice: Receiver, tmp_path: Path
) -> None:
    device = "kiosk-sim-1"
    issuer = SimIssuer()
    config = config_on(broker, tmp_path / "kiosk", device, issuer)
    images = tmp_path / "qr"
    demo_bookings(images, issuer, config, at=NOW, count=3)
    out = tmp_path / "out"
    stop = threading.Event()
    runner = threading.Thread(
        target=run_simulated,
        args=(config, images, out),
        kwargs={
            "speed": 200.0,
            "stop": stop,
            "arrival_s": 20.0,
            "walkin_every": 4,
            "seed": 1,
            "start_at": NOW,
        },
    )
    runner.start()
    try:
        eventually(lambda: len(list(out.glob("ticket-*.png"))) >= 3, "three tickets")
        eventually(
            lambda: backoffice.store.count(events.ACCEPTED) >= 3,  # type: ignore[attr-defined]
            "the accepted events at the back office",
        )
    finally:
        stop.set()
        runner.join(DEADLINE_S)
    assert not runner.is_alive()
    screens = [json.loads(line) for line in (out / "screens.jsonl").read_text().splitlines()]
    assert any(s["phase"] == "ticket" for s in screens)
    rows = [d for d in backoffice.store.devices() if d.device_id == device]  # type: ignore[attr-defined]
    assert rows and rows[0].state is not None and "summary" in rows[0].state
    assert NOW.tzinfo is UTC


def test_run_simulated_plays_a_back_office_sample_day_from_its_first_slot(
    broker: LocalBroker, backoffice: Receiver, tmp_path: Path
) -> None:
    # GIVEN a day of bookings issued by the reference back office, as the simulated branch has
    day = date(2026, 6, 15)
    sample = issue_sample_day(tmp_path / "day", DEMO_BRANCH, day, 6, seed=3, slots=1)
    device = "kiosk-sim-2"
    config = config_on(
        broker,
        tmp_path / "kiosk",
        device,
        trust_anchor=sample.trust_anchor,
        trust_list_path=sample.trust_list_path,
    )
    out = tmp_path / "out"
    stop = threading.Event()
    start = datetime.combine(day, time_of_day(7, 50), config.booking.zone)
    runner = threading.Thread(
        target=run_simulated,
        args=(config, sample.images[0].parent, out),
        kwargs={"speed": 300.0, "stop": stop, "walkin_every": 0, "seed": 2, "start_at": start},
    )

    # WHEN the kiosk runs from ten minutes before the first slot
    runner.start()
    try:
        eventually(
            lambda: backoffice.store.count(events.ACCEPTED) >= 5,  # type: ignore[attr-defined]
            "most of the day's bookings checked in",
        )
    finally:
        stop.set()
        runner.join(DEADLINE_S)

    # THEN nobody was refused for coming early or late: they came when their slot opened
    assert backoffice.store.count(events.REFUSED) == 0  # type: ignore[attr-defined]


def test_a_duplicate_found_at_sync_becomes_a_valid_event() -> None:
    from datetime import UTC, datetime

    from kiosk.domain import events
    from uplink import catalog
    from uplink.clock import utc_iso

    local_at = datetime(2026, 11, 21, 2, 0, 0, 123456, tzinfo=UTC)
    payload = events.duplicate(
        booking_id="T2GZSKYP8",
        local_kiosk="kiosk-1",
        local_at=local_at,
        remote_kiosk="kiosk-2",
        remote_at=datetime(2026, 11, 21, 2, 3, tzinfo=UTC),
    )
    types = catalog()
    types.validate_payload(types.get(events.DUPLICATE), payload)
    assert payload["remote_kiosk"] == "kiosk-2"
    assert payload["local_at"] == utc_iso(local_at)  # the one wire format
