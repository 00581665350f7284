"""A self-contained demo kiosk: a throwaway issuer, a config trusting it, and booking QRs."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import cv2

from kiosk.booking import Channel, Service
from kiosk.config import KioskConfig
from kiosk.sim.bookings import SimIssuer, token_qr
from kiosk.sim.driver import SERVICE_WEIGHTS

DEMO_BRANCH = "jakarta-salemba"  # a branch of the table, as every kiosk's
DEMO_KIOSK = "kiosk-demo-1"


def demo_config(
    directory: Path,
    issuer: SimIssuer | None = None,
    *,
    trust_anchor: str | None = None,
    trust_list_path: Path | None = None,
    branch: str = DEMO_BRANCH,
    kiosk_id: str = DEMO_KIOSK,
    timezone: str = "Asia/Jakarta",
    broker: dict[str, Any] | None = None,
    **tables: dict[str, Any],
) -> KioskConfig:
    """A kiosk config whose files all live under `directory` and which trusts `issuer`.

    Args:
        directory: created; holds the trust list, cache, ledger, ticket book and outbox.
        issuer: signs the bookings this kiosk accepts (its trust list is written here).
        trust_anchor, trust_list_path: instead of `issuer`, an existing issuer's root key and
            signed trust list (e.g. `backoffice.bookings.sample.issue_sample_day`'s).
        branch, kiosk_id, timezone: the kiosk's identity.
        broker: the `[uplink.broker]` table (default: plain loopback, never connected to in a
            headless run).
        **tables: more keys per table, e.g. ``thermometer={"retry_rest_s": 5}``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if issuer is not None:
        trust_anchor = issuer.anchor
        trust_list_path = issuer.write_trust_list(directory / "trust-list.json")
    if trust_anchor is None or trust_list_path is None:
        raise ValueError("give an issuer, or both trust_anchor and trust_list_path")
    loopback = {"host": "127.0.0.1", "port": 1883, "tls": False, "username": kiosk_id}
    data: dict[str, Any] = {
        "uplink": {
            "device_id": kiosk_id,
            "broker": broker or loopback,
            "outbox_path": directory / "outbox.db",
        },
        "booking": {
            "kiosk_id": kiosk_id,
            "branch": branch,
            "timezone": timezone,
            "trust_anchors": [trust_anchor],
            "trust_list_path": trust_list_path,
            "cache_dir": directory / "cache",
            "ledger_path": directory / "ledger.db",
        },
        "tickets": {
            "branch_name": "KCP Jakarta Salemba",
            "kiosk_code": "1",
            "book_path": directory / "tickets.db",
        },
        "thermometer": {"source": "simulated"},
        "printer": {"transport": "simulated"},
    }
    for table, values in tables.items():
        data[table] = {**data.get(table, {}), **values}
    return KioskConfig.model_validate(data)


@dataclass(frozen=True)
class DemoBooking:
    """One sample booking: its token and the QR image file of it."""

    booking_id: str
    service: Service
    channel: Channel
    token: str
    image: Path


def demo_bookings(
    directory: Path,
    issuer: SimIssuer,
    config: KioskConfig,
    *,
    at: datetime,
    count: int,
    seed: int = 0,
) -> list[DemoBooking]:
    """`count` bookings for the kiosk's branch in the slot around `at`, as QR PNGs."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)  # noqa: S311 - sample data
    zone = config.booking.zone
    slot = at.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    services, weights = zip(*SERVICE_WEIGHTS.items(), strict=True)
    made = []
    for index in range(count):
        booking_id = f"DEMO{seed:02d}{index:04d}"
        service: Service = rng.choices(services, weights)[0]
        channel: Channel = "collective" if rng.random() < 0.1 else "online"
        token = issuer.issue(
            booking_id,
            branch=config.booking.branch,
            slot_start=slot,
            zone=zone,
            service=service,
            channel=channel,
            party_size=rng.randint(5, 30) if channel == "collective" else 1,
            issued_at=slot - timedelta(days=1),
        )
        image = directory / f"{index + 1:03d}-{service}-{booking_id}.png"
        cv2.imwrite(str(image), token_qr(token))
        made.append(DemoBooking(booking_id, service, channel, token, image))
    return made
