"""A day of sample bookings for one branch, as token files and QR PNGs (simulation, demos)."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from backoffice.bookings.config import BookingsConfig
from backoffice.bookings.issuer import IssuedBooking, Issuer
from backoffice.bookings.qr import write_qr_png
from backoffice.bookings.store import BookingStore
from uplink.booking import codes
from uplink.booking.model import Service
from uplink.clock import Clock, ManualClock

# One Jakarta branch, 1-25 June 2020: 2,715 JHT, 200 JKK, 21 JKM, 54 JP claims.
_SERVICE_WEIGHTS: dict[Service, int] = {"JHT": 2715, "JKK": 200, "JKM": 21, "JP": 54}
_FIRST = ("Budi", "Siti", "Agus", "Dewi", "Rudi", "Ani", "Joko", "Sri", "Wayan", "Made",
          "Putu", "Nyoman", "Rina", "Eko", "Yusuf", "Fitri", "Bambang", "Lestari")  # fmt: skip
_LAST = ("Santoso", "Wijaya", "Hartono", "Susanti", "Saputra", "Rahayu", "Pratama",
         "Kusuma", "Nugroho", "Setiawan", "Suartini", "Gunawan", "Hidayat")  # fmt: skip


@dataclass(frozen=True)
class SampleDay:
    """What `issue_sample_day` wrote.

    Attributes:
        directory: Where everything was written.
        images: One QR PNG per booking, in slot order (the simulated camera's folder).
        token_files: One .txt per booking with the token text (same order).
        bookings: The issued bookings (same order).
        trust_list_path: The signed trust list to give the kiosk (`[booking].trust_list_path`).
        trust_anchor: The root key for the kiosk's `[booking].trust_anchors`.
        issuer: The issuer used (to cancel bookings, or serve them with BookingApi).
    """

    directory: Path
    images: list[Path]
    token_files: list[Path]
    bookings: list[IssuedBooking]
    trust_list_path: Path
    trust_anchor: str
    issuer: Issuer


def issue_sample_day(
    directory: Path,
    branch: str,
    day: date,
    count: int,
    *,
    issuer: Issuer | None = None,
    clock: Clock | None = None,
    timezone: str = "Asia/Jakarta",
    seed: int = 0,
    first_slot: time = time(8, 0),
    slot_minutes: int = 60,
    slots: int = 7,
    collective_share: float = 0.1,
    qr: bool = True,
    qr_scale: int = 4,
    services: Sequence[Service] = (),
) -> SampleDay:
    """Issue `count` bookings for `branch` on `day` and write them into `directory`.

    Without an `issuer`, a throwaway one is made under `directory/.issuer` on `clock` (a
    simulation's clock), or standing at noon the day before, so every token is issued before the
    day it is for.

    Writes `NNN-SERVICE-CODE.png` (QR, when `qr`), `NNN-SERVICE-CODE.txt` (token),
    `manifest.json` (every booking with its file names) and `trust-list.json`.

    Args:
        directory: Output folder (created).
        branch: Branch id, e.g. "jakarta-salemba".
        day: The branch-local day of the bookings.
        count: How many bookings.
        issuer: An existing issuer (its keys and clock are used as they are).
        clock: The throwaway issuer's clock (ignored with `issuer`).
        timezone: The branch's zone when a throwaway issuer is made.
        seed: Makes codes, names, services and slots reproducible.
        first_slot: Start of the first slot.
        slot_minutes: Length of each slot.
        slots: Number of consecutive slots bookings are spread over.
        collective_share: Fraction of collective (employer) bookings, party size 5-30.
        qr: Write QR PNGs.
        qr_scale: Pixels per QR module.
        services: Only bookings for these claim programmes (in their usual proportions);
            empty: all four, mostly JHT as at a branch.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if issuer is None:
        issuer = _throwaway_issuer(directory / ".issuer", branch, day, timezone, clock)
    rng = random.Random(seed)  # noqa: S311 (sample data, not secrets)
    mix = {s: w for s, w in _SERVICE_WEIGHTS.items() if not services or s in services}
    choices, weights = list(mix), list(mix.values())
    issued: list[IssuedBooking] = []
    for index in range(count):
        start = datetime.combine(day, first_slot) + timedelta(
            minutes=slot_minutes * (index * slots // max(count, 1))
        )
        collective = rng.random() < collective_share
        body = "".join(rng.choice(codes.ALPHABET) for _ in range(codes.BODY_LENGTH))
        issued.append(
            issuer.issue(
                branch=branch,
                service=rng.choices(choices, weights)[0],
                day=start.date(),  # slots may run past midnight into the next day
                start=start.time(),
                end=(start + timedelta(minutes=slot_minutes)).time(),
                name=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
                party_size=rng.randint(5, 30) if collective else 1,
                channel="collective" if collective else "online",
                booking_id=body + codes.check_symbol(body),
            )
        )
    images, token_files, manifest = [], [], []
    for index, item in enumerate(issued):
        stem = f"{index:03d}-{item.booking.service}-{item.booking.booking_id}"
        text_path = directory / f"{stem}.txt"
        text_path.write_text(item.token + "\n", encoding="ascii")
        token_files.append(text_path)
        entry = {
            "booking_id": item.booking.booking_id,
            "code": item.code,
            "service": item.booking.service,
            "channel": item.booking.channel,
            "party_size": item.booking.party_size,
            "slot_start": item.booking.slot_start.isoformat(),
            "slot_end": item.booking.slot_end.isoformat(),
            "masked_name": item.booking.masked_name,
            "token": item.token,
            "token_file": text_path.name,
        }
        if qr:
            images.append(write_qr_png(item.token, directory / f"{stem}.png", scale=qr_scale))
            entry["image"] = images[-1].name
        manifest.append(entry)
    trust_list_path = directory / "trust-list.json"
    trust_list_path.write_bytes(issuer.trust_list())
    anchor = issuer.root_public_key()
    (directory / "manifest.json").write_text(
        json.dumps({"branch": branch, "date": day.isoformat(), "trust_anchor": anchor,
                    "bookings": manifest}, indent=1, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    return SampleDay(
        directory=directory,
        images=images,
        token_files=token_files,
        bookings=issued,
        trust_list_path=trust_list_path,
        trust_anchor=anchor,
        issuer=issuer,
    )


def _throwaway_issuer(
    where: Path, branch: str, day: date, timezone: str, clock: Clock | None
) -> Issuer:
    config = BookingsConfig(
        database_path=where / "bookings.db",
        keys_dir=where / "keys",
        branch_timezones={branch: timezone},
    )
    eve = datetime.combine(day - timedelta(days=1), time(12, 0), config.zone_of(branch))
    issuer = Issuer(config, BookingStore(config.database_path), clock=clock or ManualClock(eve))
    if issuer.store.meta("trust_list") is None:
        issuer.keygen()
    return issuer
