"""`backoffice watch`: a live terminal view of devices and the events arriving in the store."""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from backoffice.config import BackofficeConfig
from backoffice.store import DeviceRow, SqliteEventStore
from backoffice.stores import DatabaseError, QueryableEventStore, open_store
from configkit import cli, load

# Everything below that comes from a device (ids, status, state, payloads) is hostile: it is
# shown as plain `Text` (never parsed as Rich markup), without control characters, and read
# shape by shape, so no retained message or stored row can restyle or crash the view.
TEXT_LIMIT = 200  # characters of one device-sent value shown (the state schema's summary cap)
PAYLOAD_LIMIT = 300  # characters of one event's payload shown, cut between items, never in one


def plain(value: object, limit: int = TEXT_LIMIT) -> str:
    """`value` as one line of printable text, at most `limit` characters (marked when cut)."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError, RecursionError):
            text = "?"
    text = "".join(
        " " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else "" if _invisible(c) else c
        for c in text
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _invisible(char: str) -> bool:
    # Format characters (bidi overrides, zero-width joiners) could disguise an id or reorder text.
    return unicodedata.category(char) in ("Cf", "Cs", "Co", "Cn")


def zone_label(zone: tzinfo) -> str:
    """WIB, WITA or WIT (or the zone's own abbreviation, or its UTC offset)."""
    now = datetime.now(zone)
    return now.tzname() or now.strftime("UTC%z")


def local_time(stamp: object, zone: tzinfo) -> str:
    """An RFC 3339 time from a device or the store, shown in the branch's zone."""
    if not isinstance(stamp, str) or not stamp:
        return "-"
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return plain(stamp, 40)
    if moment.tzinfo is None:
        return plain(stamp, 40)  # no offset: we cannot know which zone it meant
    return moment.astimezone(zone).strftime("%d-%m %H:%M:%S")


def state_summary(state: object) -> str:
    """The state's `summary` whatever shape the device sent."""
    if isinstance(state, dict):
        summary = state.get("summary")
        return "" if summary is None else plain(summary)
    return "" if state is None else plain(state)


def state_alerts(state: object) -> list[str]:
    """The state's `alerts` as text lines whatever shape the device sent (`alerts = 5` too)."""
    if not isinstance(state, dict) or state.get("alerts") in (None, "", []):
        return []
    alerts = state["alerts"]
    items = alerts if isinstance(alerts, list) else [alerts]
    return [plain(a, 120) for a in items[:20]]


def payload_text(payload: object) -> str:
    """`key: value` items of an event payload, one per line, whole items only (an id is never
    cut: too long for the terminal, it folds onto the next line)."""
    if not isinstance(payload, dict):
        return plain(payload, PAYLOAD_LIMIT)
    shown: list[str] = []
    length = 0
    for key, value in payload.items():
        item = f"{plain(key, 40)}: {plain(value, 120)}"
        if shown and length + len(item) + 1 > PAYLOAD_LIMIT:
            shown.append(f"(+{len(payload) - len(shown)} more)")
            break
        shown.append(item)
        length += len(item) + 1
    return "\n".join(shown)


def status_text(device: DeviceRow) -> Text:
    """online / OFFLINE from the device's retained status (the broker sets OFFLINE by its will).

    A device with nothing to do stays online: being quiet is not being gone.
    """
    if device.online is None:
        return Text("?")
    if device.online:
        return Text("online", style="green")
    return Text("OFFLINE", style="bold red")


def snapshot(store: QueryableEventStore, zone: tzinfo | None = None, events: int = 12) -> Group:
    """Devices (status, version, last event, pending, state and alerts) and the latest events."""
    zone = zone or ZoneInfo("Asia/Jakarta")
    label = zone_label(zone)
    devices = Table(title="Perangkat / Devices", expand=True)
    devices.add_column("device", no_wrap=True, overflow="fold")
    devices.add_column("status", no_wrap=True)
    devices.add_column("software", no_wrap=True, overflow="fold")
    devices.add_column(f"last event ({label})")
    devices.add_column("pending", justify="right")
    devices.add_column("state")
    devices.add_column("alerts")
    for d in store.devices():
        alerts = Text(", ".join(state_alerts(d.state)), style="red")
        if d.storage_full:
            alerts = Text("STORAGE FULL ", style="bold red") + alerts
        last = Text(plain(d.last_event_type or "-", 64)) + " " + local_time(d.last_event_at, zone)
        devices.add_row(
            Text(plain(d.device_id, 64)),
            status_text(d),
            Text(plain(d.software or "-", 40)),
            last,
            Text("-" if not isinstance(d.pending, int) else str(d.pending)),
            Text(state_summary(d.state)),
            alerts,
        )
    feed = Table(title="Peristiwa terakhir / Latest events", expand=True)
    feed.add_column(f"occurred ({label})", no_wrap=True)
    # The rest of the width is shared by ratio, so on an 80-column terminal the device id and
    # the type wrap and the payload keeps room to be read (alone flexible, it was left one
    # character a line: a column of letters).
    feed.add_column("device", ratio=3, overflow="fold")
    feed.add_column("seq", justify="right")
    feed.add_column("type", ratio=2, overflow="fold")
    feed.add_column("payload", ratio=5, overflow="fold")
    for e in store.latest_events(events):
        feed.add_row(
            local_time(e.occurred_at, zone),
            Text(plain(e.device_id, 64)),
            str(e.seq),
            Text(plain(e.type, 64)),
            Text(payload_text(e.payload)),
        )
    return Group(devices, feed)


def run(args: argparse.Namespace) -> int:
    zone_name: str | None = args.timezone
    config: BackofficeConfig | None = None
    if args.db:
        path: Path | None = Path(args.db)
    else:
        config = load(BackofficeConfig, args.config)
        path, zone_name = config.database_path, zone_name or config.timezone
    zone = _zone(zone_name or "Asia/Jakarta")
    if zone is None:
        print(
            f"backoffice watch: --timezone {zone_name}: unknown; use Asia/Jakarta,"
            " Asia/Makassar or Asia/Jayapura",
            file=sys.stderr,
        )
        return 2
    # An empty file is no store either: opening it would write a store's tables into it.
    if path is not None and (not path.exists() or (path.is_file() and not path.stat().st_size)):
        print(
            f"backoffice watch: {path}: no event store yet; start `backoffice receive` first",
            file=sys.stderr,
        )
        return 1
    try:
        store = open_store(config) if config is not None else SqliteEventStore(Path(args.db))
    except DatabaseError as exc:
        print(f"backoffice watch: {exc}", file=sys.stderr)
        return 1
    console = Console()
    if args.once:
        console.print(snapshot(store, zone))
        return 0
    with (
        cli.stop_on_signals() as stop,
        Live(snapshot(store, zone), console=console, refresh_per_second=2) as live,
    ):
        while not stop.wait(0.5):
            live.update(snapshot(store, zone))
    return 0


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):
        return None
