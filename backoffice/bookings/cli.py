"""`backoffice booking ...` (keys, issue, cancel, trust list, samples) and `backoffice api`.

Exit codes: 0 ok, 1 the operation failed (message on stderr), 2 bad configuration or usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from backoffice.bookings.api import BookingApi
from backoffice.bookings.checkins import make_importer
from backoffice.bookings.config import BookingsConfig
from backoffice.bookings.holding import holding
from backoffice.bookings.issuer import IssueError, Issuer, KeyState, slot_bounds
from backoffice.bookings.keys import KeyStoreError
from backoffice.bookings.qr import write_qr_png
from backoffice.bookings.sample import issue_sample_day
from backoffice.bookings.store import BookingStore
from backoffice.store import DeviceRow, SqliteEventStore
from configkit import check_command, check_files, cli, layout, load
from uplink import systemd
from uplink.booking.codes import BookingCodeError
from uplink.booking.options import add_service_option
from uplink.branches import UnknownBranchError, known_branch
from uplink.clock import utc_iso
from uplink.registry import RegistryFile

logger = logging.getLogger(__name__)

ROTATION_NOTICE = timedelta(hours=24)
"""A next key published less than this before it signs draws a warning from `rotate`."""
MAX_SAMPLE = 2000  # a sample day: a busy branch books about 150

_BRANCH_HELP = (
    "branch id, e.g. jakarta-salemba: one of uplink/branches.toml (and of the config's "
    "`branches` when set)"
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `booking` (with its subcommands) and `api` to the back-office CLI."""
    booking = sub.add_parser("booking", help="booking tokens: keys, issue, cancel, trust list")
    commands = booking.add_subparsers(dest="booking_command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        parser = commands.add_parser(name, help=help_text)
        parser.add_argument(
            "--config",
            default=str(layout.config_file("booking")),
            help="booking back-office TOML file (default %(default)s)",
        )
        return parser

    keygen = command(
        "keygen", "new signing key (and root key on first use); prints the trust anchor"
    )
    keygen.add_argument(
        "--next",
        action="store_true",
        help="publish the key in the trust list without signing with it yet (then `rotate`)",
    )
    rotate = command("rotate", "start signing with the published next key; older keys retire")
    rotate.add_argument(
        "--at",
        type=_instant,
        help="when to switch, ISO 8601 with offset (default now); the old key signs until then",
    )
    command("keys", "list the signing keys and their states (JSON)")
    command("withdraw-key", "withdraw a compromised key: its tokens are refused").add_argument(
        "kid", help="key id (8 hex digits)"
    )
    trust = command("trust-list", "write the signed trust list (for provisioning kiosks)")
    trust.add_argument("--out", type=Path, help="file to write (default: stdout)")

    issue = command("issue", "issue a booking: prints the token, optionally writes a QR PNG")
    issue.add_argument("--branch", required=True, help=_BRANCH_HELP)
    add_service_option(issue, "the booking's claim programme", required=True)
    issue.add_argument("--date", required=True, type=cli.calendar_day, help="YYYY-MM-DD")
    issue.add_argument("--slot", required=True, type=_slot, help="HH:MM-HH:MM, branch time")
    issue.add_argument("--name", required=True, help="full name (only the masked form is kept)")
    issue.add_argument("--party", type=int, default=1, help="people covered (default 1)")
    issue.add_argument(
        "--channel",
        choices=["online", "collective"],
        default="online",
        help="online (a participant) or collective (an employer for many workers; give --party)",
    )
    issue.add_argument("--qr", type=Path, help="write the QR code to this PNG file")

    cancel = command("cancel", "cancel a booking (kiosks refuse it after their next sync)")
    cancel.add_argument("code", help="booking code, e.g. 7K3-QX9-M2A")

    sample = command("sample", "issue a day of sample bookings as tokens and QR PNGs")
    sample.add_argument("--branch", required=True, help=_BRANCH_HELP)
    sample.add_argument("--date", required=True, type=cli.calendar_day, help="YYYY-MM-DD")
    sample.add_argument(
        "--count",
        # -5 issued nothing and said so in JSON; 100000000 issued for hours.
        type=cli.whole_number(1, MAX_SAMPLE, "e.g. 20"),
        default=20,
        help=f"bookings to issue, 1 to {MAX_SAMPLE} (default 20)",
    )
    sample.add_argument("--out", type=Path, required=True, help="output folder")
    sample.add_argument(
        "--seed", type=int, default=0, help="random seed for names and slots (default 0)"
    )
    add_service_option(
        sample,
        "only bookings for this claim programme; repeat for several (default: a branch's usual "
        "mix, mostly JHT)",
        action="append",
        dest="services",
    )

    duplicates = command("duplicates", "bookings checked in at more than one kiosk (JSON)")
    duplicates.add_argument("--branch", required=True, help=_BRANCH_HELP)
    duplicates.add_argument("--date", required=True, type=cli.calendar_day, help="YYYY-MM-DD")

    check = commands.add_parser(
        "check-config", help="validate a booking back-office TOML file (= backoffice config check)"
    )
    check.add_argument("file", help="the booking back-office TOML file to check")
    check.set_defaults(func=lambda args: check_command(BookingsConfig, args.file))
    booking.set_defaults(func=_booking)

    api = sub.add_parser("api", help="serve the booking API the kiosks sync from")
    api.add_argument(
        "--config",
        default=str(layout.config_file("booking")),
        help="booking back-office TOML file (default %(default)s)",
    )
    api.set_defaults(func=_api)


def _booking(args: argparse.Namespace) -> int:
    config = load(BookingsConfig, args.config)
    if getattr(args, "branch", None) is not None:  # issue, sample, duplicates
        try:
            known_branch(args.branch, config.branches, where=f"{args.config} `branches`")
        except UnknownBranchError as exc:
            print(f"backoffice booking {args.booking_command}: {exc}", file=sys.stderr)
            return 2
    store = BookingStore(config.database_path)
    issuer = Issuer(config, store)
    try:
        return _run(args, issuer)
    except (IssueError, KeyStoreError, BookingCodeError) as exc:
        print(f"backoffice booking {args.booking_command}: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()


def _run(args: argparse.Namespace, issuer: Issuer) -> int:
    name = args.booking_command
    if name == "keygen":
        info = issuer.publish_next_key() if args.next else issuer.keygen()
        print(json.dumps({"kid": info.kid, "trust_anchor": info.root_public_key,
                          "trust_list_sequence": info.trust_list_sequence,
                          "state": "next" if args.next else "signing"}))  # fmt: skip
        if args.next:
            print(
                "next: once every kiosk has synced the trust list (their sync_interval_s), "
                f"backoffice booking rotate --config {args.config}",
                file=sys.stderr,
            )
    elif name == "rotate":
        rotation = issuer.rotate(args.at)
        print(json.dumps({"signing": rotation.kid, "signs_from": utc_iso(rotation.signs_from),
                          "retired": list(rotation.retired),
                          "trust_list_sequence": rotation.trust_list_sequence}))  # fmt: skip
        notice = rotation.signs_from - rotation.published_at
        if notice < ROTATION_NOTICE:
            minutes = int(notice.total_seconds() // 60)
            print(
                f"warning: key {rotation.kid} was published only {minutes}"
                " min before it signs; a kiosk that has not synced since fetches the trust list "
                "when it meets the first new token (online) or refuses it (offline)",
                file=sys.stderr,
            )
    elif name == "keys":
        devices = None
        if issuer.config.event_store_path is not None:  # the kiosks' reported trust lists
            events = SqliteEventStore(issuer.config.event_store_path)
            devices = events.devices()
            events.close()
        print(json.dumps([_key_json(k, devices) for k in issuer.key_states()], indent=1))
    elif name == "withdraw-key":
        done = issuer.withdraw(args.kid)
        print(json.dumps({"withdrawn": done.kid, "trust_list_sequence": done.trust_list_sequence,
                          "reissued": done.reissued, "new_kid": done.new_kid,
                          "signing": done.signing_kid}))  # fmt: skip
    elif name == "trust-list":
        document = issuer.trust_list()
        if args.out:
            args.out.write_bytes(document)
        else:
            sys.stdout.write(document.decode())
    elif name == "issue":
        if args.qr is not None and args.qr.is_dir():  # found before a booking is issued
            print(f"backoffice booking issue: --qr {args.qr} is a folder; give the PNG file's "
                  f"name, e.g. {args.qr / 'booking.png'}", file=sys.stderr)  # fmt: skip
            return 2
        start, end = args.slot
        issued = issuer.issue(
            branch=args.branch, service=args.service, day=args.date, start=start, end=end,
            name=args.name, party_size=args.party, channel=args.channel,
        )  # fmt: skip
        print(issued.token)
        print(f"booking code {issued.code}, {len(issued.token)} characters", file=sys.stderr)
        if args.qr:
            try:
                write_qr_png(issued.token, args.qr)
            except OSError as exc:
                print(f"backoffice booking issue: booking {issued.code} is issued (its token is "
                      f"above) but its QR code was not written to {args.qr}: {exc.strerror}",
                      file=sys.stderr)  # fmt: skip
                return 1
            print(f"QR code written to {args.qr}", file=sys.stderr)
    elif name == "cancel":
        if not issuer.cancel(args.code):
            print(f"booking {args.code} is unknown or already cancelled", file=sys.stderr)
            return 1
        print(f"booking {args.code} cancelled")
    elif name == "duplicates":
        importer = make_importer(issuer.config, issuer.store)
        if importer is not None:
            try:
                importer.import_new()
            finally:
                importer.events.close()
        found = issuer.store.duplicate_checkins(args.branch, args.date)
        print(json.dumps({booking: [{"kiosk_id": kiosk, "at": utc_iso(at)} for kiosk, at in rows]
                          for booking, rows in found.items()}))  # fmt: skip
    elif name == "sample":
        day = issue_sample_day(args.out, args.branch, args.date, args.count, issuer=issuer,
                               seed=args.seed, services=args.services or ())  # fmt: skip
        print(json.dumps({"images": len(day.images), "directory": str(day.directory),
                          "trust_anchor": day.trust_anchor}))  # fmt: skip
    return 0


def _key_json(key: KeyState, devices: list[DeviceRow] | None) -> dict[str, object]:
    """One key for `booking keys`: its state, and which kiosks do not hold it yet."""
    out: dict[str, object] = {
        "kid": key.kid, "state": key.state, "listed_from": utc_iso(key.listed_from),
        "signs_from": None if key.signs_from is None else utc_iso(key.signs_from),
        "signs_until": utc_iso(key.signs_until),
        "withdrawn_at": None if key.withdrawn_at is None else utc_iso(key.withdrawn_at),
        "listed_until": utc_iso(key.listed_until), "listed_in_sequence": key.listed_in,
    }  # fmt: skip
    if devices is not None and key.listed_in is not None:
        held = holding(devices, key.listed_in)
        out["kiosks_holding"], out["kiosks_behind"] = len(held.holding), list(held.behind)
    return out


def _api(args: argparse.Namespace) -> int:
    config = load(BookingsConfig, args.config)
    for warning in check_files(config, str(args.config)):  # TLS files opened before serving
        print(warning, file=sys.stderr)
    store = BookingStore(config.database_path)
    issuer = Issuer(config, store)
    registry = RegistryFile(config.device_registry_path) if config.device_registry_path else None
    importer = make_importer(config, store, registry)
    try:
        api = BookingApi(
            config,
            issuer,
            importer=importer,
            registry=None if registry is None else registry.current,
            alive=systemd.notify_watchdog,
        )
    except OSError as exc:  # the address is taken, not this machine's, or not an address
        if importer is not None:
            importer.events.close()
        store.close()
        print(
            f"backoffice api: cannot listen on {config.api.host}:{config.api.port} "
            f"({exc.strerror or exc}); check api.host and api.port in {args.config}",
            file=sys.stderr,
        )
        return 1
    # A signal lands on this (the serving) thread: shutdown() must come from another one.
    with cli.stop_on_signals(lambda: threading.Thread(target=api.stop, daemon=True).start()):
        try:
            systemd.notify_ready()  # listening since BookingApi(): kiosks connect from now on
            api.serve_forever()
        finally:
            if importer is not None:
                importer.events.close()
            store.close()
    return 0


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time with an offset, e.g. 2026-12-01T02:00:00+07:00"
        )
    return moment


def _slot(text: str) -> tuple[time, time]:
    try:
        first, last = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not HH:MM-HH:MM, e.g. 09:00-10:00") from None
    slot_start, slot_end = slot_bounds(date(2000, 1, 1), first, last, UTC)
    if slot_end <= slot_start:
        raise argparse.ArgumentTypeError(
            f"slot {text!r} ends before it starts (a slot ending at midnight ends at 00:00)"
        )
    return first, last
