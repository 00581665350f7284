"""`backoffice watch`: a live terminal view of devices and the events arriving in the store."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from backoffice.config import BackofficeConfig
from backoffice.store import SqliteEventStore
from configkit import load


def snapshot(store: SqliteEventStore, events: int = 12) -> Group:
    """Devices (online, last event, pending, state summary and alerts) and the latest events."""
    devices = Table(title="Perangkat / Devices", expand=True)
    for column in ("device", "status", "last event", "pending", "state", "alerts"):
        devices.add_column(column)
    for d in store.devices():
        status = {True: "[green]online[/]", False: "[red]OFFLINE[/]", None: "?"}[d.online]
        state = d.state or {}
        alerts = ", ".join(str(a) for a in state.get("alerts", [])) or ""
        if d.storage_full:
            alerts = "[red]STORAGE FULL[/] " + alerts
        last = f"{d.last_event_type or '-'} {d.last_event_at or ''}"
        devices.add_row(
            d.device_id,
            status,
            last,
            "-" if d.pending is None else str(d.pending),
            str(state.get("summary", "")),
            f"[red]{alerts}[/]" if alerts else "",
        )
    feed = Table(title="Peristiwa terakhir / Latest events", expand=True)
    for column in ("occurred (UTC)", "device", "seq", "type", "payload"):
        feed.add_column(column)
    for e in store.latest_events(events):
        body = ", ".join(f"{k}={v}" for k, v in e.payload.items())
        feed.add_row(e.occurred_at, e.device_id, str(e.seq), e.type, body[:70])
    return Group(devices, feed)


def run(args: argparse.Namespace) -> int:
    path = Path(args.db) if args.db else load(BackofficeConfig, args.config).database_path
    if not path.exists():
        print(f"{path}: no event store yet; start `backoffice receive` first")
        return 1
    store = SqliteEventStore(path)
    console = Console()
    if args.once:
        console.print(snapshot(store))
        return 0
    with Live(snapshot(store), console=console, refresh_per_second=2) as live:
        try:
            while True:
                time.sleep(0.5)
                live.update(snapshot(store))
        except KeyboardInterrupt:
            return 0
