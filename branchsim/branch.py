"""A whole branch office in simulation: broker, back office, kiosks and a dropbox, live.

    python -m branchsim [--speed 10] [--start ISO-INSTANT] [--duration-s 120]
                        [--kiosks 2] [--dir DIR]

Time: one simulated clock for every part (bookings issued, verified, tickets, the dropbox, the
occupancy). By default it plays a business day of the branch, 07:30-16:00 Asia/Jakarta of
today's date, `--speed` times faster, whatever the hour on the machine; `--start` starts the
simulated day at any instant instead (e.g. 2026-11-30T23:50:00+07:00, a day across midnight).

Real parts: mosquitto with the fleet's TLS and ACL config (certificates from a fresh branch CA),
the back-office receiver with its SQLite store, every device's uplink with its durable outbox,
booking tokens signed and verified with Ed25519. Simulated: cameras, thermometers, printers
(tickets become PNGs), the dropbox's pins (gpiozero MockFactory) and the people using them.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from backoffice.config import BackofficeConfig
from backoffice.occupancy import occupancy_message
from backoffice.receiver import Receiver
from backoffice.store import SqliteEventStore
from backoffice.watch import snapshot
from branchsim.audit import keep_history, pending_now, stored_events, summary_document, tally
from branchsim.bridge import BridgedBrokers
from branchsim.broker import LocalBroker
from branchsim.report import Outage, Sample, write_report
from branchsim.script import ScriptPlayer, played_span
from branchsim.workdir import WorkDir, WorkDirError
from configkit import cli
from uplink import Clock, SimulatedClock, topics
from uplink.branches import device_id as make_device_id
from uplink.branches import table as branch_table
from uplink.clock import utc_iso

if TYPE_CHECKING:
    from backoffice.bookings.issuer import Issuer
    from branchsim.script import DayScript
    from dropbox_agent.config import DropboxConfig
    from kiosk.config import KioskConfig
    from kiosk.sim.runner import SimulatedKiosk

logger = logging.getLogger(__name__)

BRANCH = "jakarta-salemba"
TIMEZONE = "Asia/Jakarta"
TICK_S = 0.5
DAY_OPENS = time_of_day(7, 30)
DAY_LENGTH = timedelta(hours=8, minutes=30)  # 07:30-16:00
SLOT = timedelta(hours=1)
BOOKINGS_PER_SLOT = 6  # per kiosk
DEVICES_STOP_S = 3.0  # the devices' share of the 5 s a stop may take (then receiver and broker)
DEVICE_DRAIN_S = 1.5  # how long a stopping device waits for its outbox to drain


def business_day_start(day: date) -> datetime:
    """When the branch opens on `day`: 07:30 Asia/Jakarta."""
    return datetime.combine(day, DAY_OPENS, ZoneInfo(TIMEZONE))


def outage_window(duration_s: float | None, speed: float) -> tuple[float, float]:
    """When the line to head office is down, in simulated seconds after the start: from 30 % to
    55 % of a run of `duration_s` real seconds (the rest is the catch-up), or 12:00-12:30 of a
    whole day."""
    if duration_s is None:
        return (4.5 * 3600, 5 * 3600)
    return (0.30 * duration_s * speed, 0.55 * duration_s * speed)


# The days a simulated day may start on: from the booking API's first day (backoffice.bookings.api)
# to a month before booking tokens' 32-bit seconds run out (2106-02-07, uplink.booking.token).
FIRST_START, LAST_START = date(2000, 1, 1), date(2105, 12, 31)


def parse_start(text: str) -> datetime:
    """`--start`: an ISO 8601 instant with its UTC offset, e.g. 2026-11-30T23:50:00+07:00.

    Raises:
        argparse.ArgumentTypeError: not an instant (the message says how to write one).
    """
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 instant; write e.g. 2026-11-30T23:50:00+07:00"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no UTC offset; add one, e.g. {text}+07:00 (WIB) or {text}Z (UTC)"
        )
    if not FIRST_START <= moment.date() <= LAST_START:
        # 9999-12-31 stopped the run at start ("date value out of range"), and the booking API
        # answers day lists only in these years.
        raise argparse.ArgumentTypeError(
            f"{text!r}: give an instant from {FIRST_START} to {LAST_START}, "
            "e.g. 2026-11-30T23:50:00+07:00"
        )
    return moment


@dataclass
class Device:
    """One simulated device running in its own thread until the branch stops."""

    device_id: str
    run: Callable[[threading.Event], None]
    thread: threading.Thread | None = None
    error: BaseException | None = None
    on_main_thread: bool = False  # a window (the kiosk's touchscreen): `_run` runs it

    def start(self, stop: threading.Event) -> None:
        if self.on_main_thread:
            return

        def target() -> None:
            try:
                self.run(stop)
            except BaseException as exc:  # shown in the summary; the branch keeps running
                logger.exception("%s stopped with an error", self.device_id)
                self.error = exc

        self.thread = threading.Thread(target=target, name=self.device_id, daemon=True)
        self.thread.start()


@dataclass
class ServiceCounters:
    """The branch's service counters, modelled just enough to publish a live occupancy:
    everyone with a ticket is inside until a counter has served them."""

    capacity: int = 25
    counters: int = 6
    service_s: float = 90.0  # simulated seconds per participant at a counter
    served: float = 0.0
    last_inside: int | None = None
    crowd: int = 0  # inside without a kiosk ticket (a group an officer led in): the day's script

    def tick(self, elapsed_sim_s: float, ticketed: int) -> int | None:
        """Advance the counters; the new number inside when it changed, else None."""
        self.served = min(
            float(ticketed), self.served + elapsed_sim_s * self.counters / self.service_s
        )
        inside = ticketed - int(self.served) + self.crowd
        if inside == self.last_inside:
            return None
        self.last_inside = inside
        return inside


@dataclass
class Branch:
    """The parts of a simulated branch, started by `start()` and stopped by `stop()`."""

    directory: Path
    speed: float
    kiosks: int
    dropbox: bool
    start_at: datetime
    clock: SimulatedClock = field(init=False)
    outage: tuple[float, float] | None = None  # the line to head office: (cut, restored) s
    brokers: BridgedBrokers = field(init=False)
    broker: LocalBroker = field(init=False)  # the branch broker, where devices connect
    store: SqliteEventStore = field(init=False)
    receiver: Receiver = field(init=False)
    devices: list[Device] = field(default_factory=list)
    counters: ServiceCounters = field(default_factory=ServiceCounters)
    stopping: threading.Event = field(default_factory=threading.Event)
    ui: bool = False  # the first kiosk shows its touchscreen in a window (`--ui`)
    _occupancy_at: float = 0.0  # simulated seconds at the last occupancy update
    outboxes: dict[str, Path] = field(default_factory=dict)  # device id -> its outbox file
    # Each headless kiosk's simulated parts once built (a fault test breaks them through these).
    kiosk_parts: dict[str, SimulatedKiosk] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    outages: list[Outage] = field(default_factory=list)
    # The simulated time the run plays (the day's script spreads its set pieces over it).
    span: timedelta = DAY_LENGTH
    scripted: bool = True  # play the day's set pieces (`branchsim.script`) between random ones
    script: DayScript | None = None
    _player: ScriptPlayer | None = None  # plays the script's happenings
    # What `start` has started, stopped in reverse order by `stop` (also after a failed start).
    _started: ExitStack = field(default_factory=ExitStack)

    def start(self, progress: Callable[[str], None]) -> None:
        """Start every part; on an error, what was started keeps running until `stop()`."""
        progress(
            "Menyiapkan CA, broker cabang dan pusat (TLS + ACL + bridge) / "
            "CA, branch and central brokers"
        )
        self.brokers = BridgedBrokers(self.directory / "brokers", BRANCH)
        self.broker = self.brokers.branch
        self._started.callback(self.brokers.stop)
        self.brokers.start()
        progress("Menjalankan penerima kantor belakang / back-office receiver")
        self.store = SqliteEventStore(self.directory / "backoffice" / "events.db")
        config = BackofficeConfig(
            broker=self.brokers.central.client_config("backoffice"),
            database_path=self.store.path,
        )
        self.receiver = Receiver(config, self.store)
        self._started.callback(self.receiver.stop)
        self.receiver.start()
        if not self.receiver.wait_ready(30):
            raise RuntimeError(
                f"the receiver did not subscribe; see {self.brokers.central.directory}"
            )
        # The simulated day starts now: setting up the broker and receiver takes none of it.
        self.clock = SimulatedClock(self.start_at, self.speed)
        self._occupancy_at = self.clock.elapsed_s()
        if self.kiosks:
            progress("Menerbitkan booking contoh hari ini / issuing today's sample bookings")
            self.devices += kiosk_devices(self, self.kiosks)
        if self.dropbox:
            self.devices.append(dropbox_device(self))
        for device_id, outbox in self.outboxes.items():
            keep_history(outbox, device_id)  # before the device records anything
        self._started.callback(self._stop_devices)
        for device in self.devices:
            progress(f"Menyalakan {device.device_id} / starting {device.device_id}")
            device.start(self.stopping)

    def tick(self) -> None:
        """The branch's own pace: the line to head office, the script, the occupancy, a sample."""
        self.update_line()
        self.update_script()
        self.update_occupancy()

    def update_script(self) -> None:
        """Do the script's happenings whose time has come (paper out, the office full...)."""
        if self.script is None:
            return
        if self._player is None:
            self._player = ScriptPlayer(self.script.happenings, self.span)
        parts = self.kiosk_parts.get(make_device_id(BRANCH, "kiosk", 1))
        for act in self._player.due(self.clock.now(), parts):
            logger.info("scripted: %s", act)
            if act == "paper_out" and parts is not None:
                parts.printer.paper_left = 0
            elif act == "paper_refilled" and parts is not None:
                parts.printer.paper_left = None
            elif act == "office_full":
                self.counters.crowd = self.counters.capacity
            elif act == "office_eases":
                self.counters.crowd = 0

    def update_line(self) -> None:
        """Cut or restore the line to head office when the outage's time has come."""
        if self.outage is None:
            return
        elapsed, (cut_at, restore_at) = self.clock.elapsed_s(), self.outage
        down = bool(self.outages) and self.outages[-1].end is None
        if not down and not self.outages and cut_at <= elapsed < restore_at:
            logger.warning("the line to head office is cut (simulated outage)")
            self.brokers.cut()
            self.outages.append(Outage(self.clock.now(), None))
        elif down and elapsed >= restore_at:
            logger.warning("the line to head office is restored")
            self.brokers.restore()
            self.outages[-1] = Outage(self.outages[-1].start, self.clock.now())

    def update_occupancy(self) -> None:
        """Publish the occupancy (retained) whenever it changes, as a queue system would."""
        ticketed = self.store.count("kiosk.ticket.issued")
        elapsed = self.clock.elapsed_s()
        inside = self.counters.tick(elapsed - self._occupancy_at, ticketed)
        self._occupancy_at = elapsed
        now = self.clock.now()
        if inside is not None:
            body = occupancy_message(inside, self.counters.capacity, at=now)
            self.receiver.publish_retained(topics.occupancy(BRANCH), body)
        self.samples.append(Sample(now, self.counters.last_inside or 0, pending_now(self.outboxes)))

    @property
    def running(self) -> bool:
        return any(d.thread is not None and d.thread.is_alive() for d in self.devices)

    def stop(self) -> None:
        """Stop everything started, devices first (they drain their outboxes briefly), then the
        receiver and the broker; safe after a failed or partial start, and twice."""
        self._started.close()

    def close_store(self) -> None:
        """Close the back office's store (after `stop` and the summary)."""
        store = getattr(self, "store", None)
        if store is not None:
            store.close()

    def _stop_devices(self) -> None:
        self.stopping.set()
        deadline = time.monotonic() + DEVICES_STOP_S
        for device in self.devices:
            if device.thread is not None:
                device.thread.join(max(0.0, deadline - time.monotonic()))
                if device.thread.is_alive():
                    logger.warning("%s did not stop in time", device.device_id)


def kiosk_setups(
    directory: Path,
    broker: LocalBroker,
    clock: Clock,
    count: int,
    per_slot: int = BOOKINGS_PER_SLOT,
    script: Callable[[Issuer, list[Path]], None] | None = None,
) -> list[KioskConfig]:
    """`count` simulated kiosks' configs under `directory`, sharing one set of sample bookings
    issued on `clock` (each kiosk's camera folder holds its share of the participants);
    `script(issuer, cache_dirs)` issues the day's scripted bookings with the same issuer."""
    from backoffice.bookings.sample import issue_sample_day
    from kiosk.booking import BookingConfig
    from kiosk.config import KioskConfig, PrinterConfig, ThermometerConfig, TicketsConfig
    from uplink import UplinkConfig

    # Hourly slots over the simulated day, from the hour it starts in (a start at 23:50 has the
    # 23:00-00:00 slot first and the next day's after it), issued on the simulation's clock.
    start = clock.now().astimezone(ZoneInfo(TIMEZONE))
    first = start.replace(minute=0, second=0, microsecond=0)
    slots = -(-(start + DAY_LENGTH - first) // SLOT)
    sample = issue_sample_day(
        directory / "bookings",
        BRANCH,
        first.date(),
        count=per_slot * slots * count,
        clock=clock,
        timezone=TIMEZONE,
        first_slot=first.time(),
        slot_minutes=60,
        slots=slots,
    )
    if script is not None:
        homes = [directory / make_device_id(BRANCH, "kiosk", n) for n in range(1, count + 1)]
        script(sample.issuer, [home / "cache" for home in homes])
    configs = []
    for n in range(1, count + 1):
        device_id = make_device_id(BRANCH, "kiosk", n)
        home = directory / device_id
        images = home / "camera"
        images.mkdir(parents=True)
        for image in sample.images[n - 1 :: count]:
            shutil.copy(image, images / image.name)
        configs.append(
            KioskConfig(
                uplink=UplinkConfig(
                    device_id=device_id,
                    broker=broker.client_config(device_id),
                    outbox_path=home / "outbox.db",
                ),
                booking=BookingConfig(
                    kiosk_id=device_id,
                    branch=BRANCH,
                    timezone=TIMEZONE,
                    trust_anchors=[sample.trust_anchor],
                    trust_list_path=sample.trust_list_path,
                    cache_dir=home / "cache",
                    ledger_path=home / "ledger.db",
                ),
                tickets=TicketsConfig(
                    branch_name=branch_table()[BRANCH].name,
                    kiosk_code=str(n),
                    book_path=home / "tickets.db",
                ),
                thermometer=ThermometerConfig(source="simulated"),
                printer=PrinterConfig(transport="simulated", out_dir=home / "tickets"),
            )
        )
    return configs


def kiosk_home(config: KioskConfig) -> Path:
    """The simulated kiosk's folder (camera/, tickets/, its databases)."""
    return config.uplink.outbox_path.parent


def kiosk_devices(branch: Branch, count: int) -> list[Device]:
    """`count` kiosks at the entrance sharing one set of today's sample bookings."""
    from branchsim.script import kiosk_day
    from kiosk.sim.runner import run_simulated

    def script(issuer: Issuer, cache_dirs: list[Path]) -> None:
        branch.script = kiosk_day(
            branch.directory / "script", issuer, BRANCH, ZoneInfo(TIMEZONE),
            branch.clock.now(), branch.span, cache_dirs,
        )  # fmt: skip

    devices = []
    setups = kiosk_setups(
        branch.directory, branch.broker, branch.clock, count,
        script=script if branch.scripted else None,
    )  # fmt: skip
    for n, config in enumerate(setups, start=1):
        device_id, home = config.uplink.device_id, kiosk_home(config)
        branch.outboxes[device_id] = config.uplink.outbox_path

        def run(
            stop: threading.Event, config: KioskConfig = config, home: Path = home,
            first: bool = n == 1,
        ) -> None:  # fmt: skip
            def built(sim: SimulatedKiosk) -> None:
                branch.kiosk_parts[config.uplink.device_id] = sim
                if branch.script is not None and first:
                    sim.participants.expect(branch.script.visits)

            run_simulated(config, home / "camera", home / "tickets", clock=branch.clock,
                          stop=stop, on_built=built)  # fmt: skip

        def run_ui(stop: threading.Event, config: KioskConfig = config, home: Path = home) -> None:
            from kiosk.ui.run import run_branch_kiosk

            run_branch_kiosk(config, home / "camera", home / "tickets", clock=branch.clock,
                             stop=stop)  # fmt: skip

        if branch.ui and n == 1:
            devices.append(Device(device_id, run_ui, on_main_thread=True))
        else:
            devices.append(Device(device_id, run))
    return devices


def dropbox_setup(directory: Path, broker: LocalBroker) -> DropboxConfig:
    """The simulated dropbox's config under `directory` (the shipped example, its uplink and
    database moved into the simulation's folder)."""
    import dropbox_agent
    from configkit import load
    from dropbox_agent.config import DropboxConfig
    from uplink import UplinkConfig

    example = load(DropboxConfig, Path(dropbox_agent.__file__).parent / "examples" / "dropbox.toml")
    device_id = example.uplink.device_id
    home = directory / device_id
    home.mkdir(parents=True)
    uplink = UplinkConfig(
        device_id=device_id,
        broker=broker.client_config(device_id),
        outbox_path=home / "outbox.db",
    )
    return example.model_copy(update={"uplink": uplink, "local_db_path": home / "box.db"})


def branch_day_scenario() -> Path:
    """The dropbox's scripted day that ships with it."""
    import dropbox_agent

    return Path(dropbox_agent.__file__).parent / "sim" / "scenarios" / "branch-day.toml"


def dropbox_device(branch: Branch) -> Device:
    """The dropbox outside the branch, running the scripted day (deposits and a collection)."""
    from branchsim.script import dropbox_day, uv_cycle_s
    from dropbox_agent.sim.runner import run_simulated

    config = dropbox_setup(branch.directory, branch.broker)
    home = config.uplink.outbox_path.parent
    branch.outboxes[config.uplink.device_id] = config.uplink.outbox_path
    scenario = branch_day_scenario()
    if branch.scripted:
        scenario = dropbox_day(branch.directory / "script" / "dropbox-day.toml", branch.span)
        uv = config.uv.model_copy(update={"cycle_s": uv_cycle_s(branch.span)})
        config = config.model_copy(update={"uv": uv})

    def run(stop: threading.Event) -> None:
        # Idle is not offline: after its scripted day the box stays connected until the end.
        run_simulated(
            config,
            scenario,
            speed=branch.speed,
            stop=stop,
            slips_dir=home / "slips",
            clock=branch.clock,
            serve_after=True,
            drain_s=DEVICE_DRAIN_S,
        )

    return Device(config.uplink.device_id, run)


def end_of_day(branch: Branch, directory: Path) -> dict[str, Any]:
    """Account for every event, write summary.json and report.html; returns the summary."""
    store_path = branch.store.path
    zone = ZoneInfo(TIMEZONE)
    document = summary_document(
        tally(branch.outboxes, store_path),
        store_path,
        zone,
        branch=BRANCH,
        timezone=TIMEZONE,
        speed=branch.speed,
        sim_start=utc_iso(branch.start_at),
        sim_end=utc_iso(branch.clock.now()),
        outages=[
            {"start": utc_iso(o.start), "end": None if o.end is None else utc_iso(o.end)}
            for o in branch.outages
        ],
    )
    (directory / "summary.json").write_text(json.dumps(document, indent=1) + "\n", "utf-8")
    try:
        write_report(
            directory / "report.html",
            summary=document,
            events=stored_events(store_path),
            samples=branch.samples,
            outages=branch.outages,
            zone=zone,
            capacity=branch.counters.capacity,
        )
    except ImportError as exc:  # matplotlib is an extra: the summary stands without it
        logger.warning("report.html not written: %s (install the project's [sim] extra)", exc)
    return document


def summary_table(document: dict[str, Any]) -> Table:
    """The end-of-day table: each device and the total, one row per count.

    Refusals, collections and the day's cases are a row each by name (`  fever_referral`),
    so a column holds only numbers: on an 80-column terminal or in a log the names stay whole
    (in one cell per device, "fever_referral 2, paper_out 1" was cut to "fever_referr…").
    """
    table = Table(title="Ringkasan hari / Summary of the day")
    table.add_column("", no_wrap=True)
    columns = {"total": document["total"], **document["devices"]}
    for name in columns:
        table.add_column(name, justify="right", overflow="fold")
    for key in ("events_recorded", "events_stored", "events_pending", "events_lost",
                "duplicates_stored", "tickets_issued", "tickets_printed", "deposits"):  # fmt: skip
        style = "red bold" if key in ("events_lost", "duplicates_stored") else ""
        values = [str(c[key]) for c in columns.values()]
        if style and values[0] != "0":
            values = [f"[{style}]{v}[/]" for v in values]
        table.add_row(key, *values)
    for key in ("checkins_refused", "collections", "day_cases"):
        names = list(dict.fromkeys(name for c in columns.values() for name in c[key]))
        if not names:
            table.add_row(key, *("0" for _ in columns))
            continue
        table.add_row(key, *("" for _ in columns))
        for name in names:
            table.add_row(f"  {name}", *(str(c[key].get(name, 0)) for c in columns.values()))
    return table


@contextmanager
def quiet_logs(path: Path) -> Iterator[None]:
    """Send log lines to a file so they do not tear through the live view."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)  # the caller's level back (a test run in one process goes on)
        handler.close()


def main(argv: list[str] | None = None) -> int:
    """`python -m branchsim`; exit codes: 0 done, 1 a device failed or the start failed,
    2 usage or work folder refused, 130 interrupted while starting."""
    parser = argparse.ArgumentParser(
        prog="python -m branchsim",
        description="Run a whole branch office in simulation (Ctrl-C to stop).",
    )
    parser.add_argument(
        "--speed", type=cli.speed_factor, default=10.0, help="time runs this much faster"
    )
    parser.add_argument(
        "--start",
        type=parse_start,
        metavar="ISO-8601-INSTANT",
        help="start the simulated day at this instant, e.g. 2026-11-30T23:50:00+07:00 "
        "(default: 07:30 Asia/Jakarta today)",
    )
    parser.add_argument(
        "--duration-s", type=cli.seconds(7 * 86400), help="stop after this many real seconds"
    )
    parser.add_argument("--kiosks", type=int, default=2, choices=range(5))
    parser.add_argument("--no-dropbox", action="store_true", help="leave the dropbox out")
    parser.add_argument(
        "--no-outage",
        action="store_true",
        help="keep the line to head office up (default: cut it for a while mid-run)",
    )
    parser.add_argument(
        "--ui",
        action="store_true",
        help=f"show {make_device_id(BRANCH, 'kiosk', 1)}'s touchscreen in a window, with a "
        "simulation panel (needs a display: DISPLAY or WAYLAND_DISPLAY; else it says how to get "
        "one)",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path("branch-sim"),
        help="work folder: new, empty, or one an earlier run made (it is emptied first)",
    )
    parser.add_argument(
        "--force", action="store_true", help="empty --dir even if a simulation did not make it"
    )
    args = parser.parse_args(argv)
    if not args.speed > 0:
        parser.error("--speed must be positive")
    if args.duration_s is not None and not args.duration_s > 0:
        parser.error("--duration-s must be positive")
    if args.ui:
        from kiosk.ui.run import ui_unavailable

        if args.kiosks < 1:
            parser.error("--ui shows a kiosk: use --kiosks 1 or more")
        reason = ui_unavailable()
        if reason is not None:
            print(f"--ui: {reason}", file=sys.stderr)
            return 2

    console = Console()
    workdir = WorkDir(args.dir, force=args.force)
    try:
        workdir.acquire()
    except (WorkDirError, OSError) as exc:
        console.print(f"[red]Folder kerja ditolak / work folder refused:[/] {exc}")
        return 2
    try:
        with quiet_logs(workdir.path / "branch.log"), _sigterm_as_interrupt():
            return _run(args, workdir.path, console)
    finally:
        workdir.release()


def _run(args: argparse.Namespace, directory: Path, console: Console) -> int:
    log = directory / "branch.log"
    # The one reading of the machine's clock: which day is "today" in Jakarta.
    start_at = args.start or business_day_start(datetime.now(ZoneInfo(TIMEZONE)).date())
    outage = None if args.no_outage else outage_window(args.duration_s, args.speed)
    branch = Branch(
        directory, args.speed, args.kiosks, not args.no_dropbox, start_at, outage, ui=args.ui,
        span=played_span(args.duration_s, args.speed, DAY_LENGTH),
    )  # fmt: skip
    try:
        branch.start(lambda step: console.print(f"[bold]•[/] {step}"))
    except KeyboardInterrupt:
        logger.warning("interrupted while starting; stopping what was started")
        branch.stop()
        branch.close_store()
        return 130
    except Exception as exc:
        logger.exception("the branch simulation could not start")
        branch.stop()
        branch.close_store()
        console.print(f"[red]Simulasi gagal dimulai / could not start:[/] {exc}")
        console.print(f"Lihat / see {log}")
        return 1
    deadline = None if args.duration_s is None else time.monotonic() + args.duration_s
    console.print(
        f"Hari simulasi mulai / simulated day starts {start_at.isoformat()}; "
        f"Cabang berjalan (kecepatan ×{args.speed:g}); Ctrl-C untuk berhenti. / "
        f"Branch running; Ctrl-C to stop. Log: {log}"
    )
    window = next((d for d in branch.devices if d.on_main_thread), None)

    def watch() -> None:
        with Live(view(branch), console=console, refresh_per_second=2) as live:
            while (branch.running or window is not None) and not branch.stopping.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    branch.stopping.set()  # also closes the touchscreen's window
                    break
                branch.stopping.wait(TICK_S)
                branch.tick()
                live.update(view(branch))

    try:
        if window is None:
            watch()
        else:  # Kivy's window needs the main thread: the live view runs beside it
            watcher = threading.Thread(target=watch, name="live-view", daemon=True)
            watcher.start()
            try:
                window.run(branch.stopping)
            except Exception as exc:
                logger.exception("%s stopped with an error", window.device_id)
                window.error = exc
            branch.stopping.set()
            watcher.join(5)
    except KeyboardInterrupt:
        logger.info("interrupted; stopping the branch")
    except Exception:  # the live view failed: stop everything all the same
        logger.exception("the branch simulation failed while running")
    finally:
        console.print("Menghentikan perangkat / stopping devices...")
        began = time.monotonic()
        branch.stop()
        logger.info("branch stopped in %.1f s", time.monotonic() - began)
    try:
        document = end_of_day(branch, directory)
    finally:
        branch.close_store()
    console.print(summary_table(document))
    console.print(
        f"Ringkasan / summary: {directory / 'summary.json'}  ·  "
        f"laporan / report: {directory / 'report.html'}"
    )
    failed = [d for d in branch.devices if d.error is not None]
    for device in failed:
        console.print(f"[red]{device.device_id}: {device.error}[/]")
    console.print(f"Tiket (PNG) / tickets: {directory}/{BRANCH}-kiosk-*/tickets/  ·  log: {log}")
    return 1 if failed else 0


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (systemd, `kill`) stops the branch as Ctrl-C does (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def view(branch: Branch) -> Group:
    inside = branch.counters.last_inside or 0
    capacity = branch.counters.capacity
    full = " [red bold]PENUH / FULL[/]" if inside >= capacity else ""
    header = (
        f"[bold]Cabang {BRANCH}[/] · di dalam / inside {inside}/{capacity}{full} · "
        f"peristiwa tersimpan / events stored {branch.store.count()}"
    )
    return Group(header, snapshot(branch.store, events=10))


if __name__ == "__main__":
    sys.exit(main())
