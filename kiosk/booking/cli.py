"""`kiosk verify`: check one booking token (or typed code) against this kiosk's config;
`kiosk trust-list show|install`: the signing keys it trusts, and installing them offline.

Prints one JSON object: the verdict (`accepted`, `reason`, the participant's texts in Bahasa
Indonesia and English, the booking once its signature verified) and `cache_age_s`, the age of
the synced booking data (null: never synced).

Exit codes: 0 the booking is accepted (trust-list: done), 1 it is refused (trust-list: the file
is refused or none is held), 2 bad configuration or usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from configkit import ConfigError, Problem, layout, parse, read_small_file, read_toml
from kiosk.booking.config import BookingConfig
from kiosk.booking.model import Verdict, as_dict
from uplink.booking.trustlist import MAX_DOCUMENT_BYTES, TrustListError
from uplink.clock import utc_iso

DEFAULT_CONFIG = layout.config_file("kiosk")
EXIT_ACCEPTED, EXIT_REFUSED, EXIT_CONFIG = 0, 1, 2


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `verify` to the kiosk CLI."""
    verify = sub.add_parser(
        "verify",
        help="check a booking token (JSON verdict; exit 0 valid, 1 invalid, 2 bad config)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument(
        "qr_text",
        metavar="TOKEN",
        help="the QR text (quote it: it contains spaces and $), or - to read stdin",
    )
    verify.add_argument(
        "--config",
        dest="verify_config",
        metavar="FILE",
        type=Path,
        help=f"kiosk TOML file with a [booking] table (default $KIOSK_CONFIG or {DEFAULT_CONFIG})",
    )
    verify.add_argument("--now", help="check as of this ISO 8601 time (default: now)")
    verify.add_argument(
        "--code",
        action="store_true",
        help="TOKEN is a typed booking code: look it up online (or in the synced day list)",
    )
    verify.set_defaults(func=run_verify)

    trust = sub.add_parser(
        "trust-list",
        help="the booking trust list this kiosk holds: show it, or install one from a file",
    )
    trust_commands = trust.add_subparsers(dest="trust_command", required=True)
    show = trust_commands.add_parser(
        "show", help="the trust list held: its sequence and signing keys (JSON)"
    )
    install = trust_commands.add_parser(
        "install",
        help="install a trust list file (for a kiosk that cannot reach the back office); it "
        "must verify against the trust anchors and be newer than the one held",
    )
    install.add_argument("file", type=Path, help="from `backoffice booking trust-list --out`")
    for parser in (show, install):
        parser.add_argument(
            "--config",
            dest="verify_config",
            metavar="FILE",
            type=Path,
            help=f"kiosk TOML file (default $KIOSK_CONFIG or {DEFAULT_CONFIG})",
        )
    trust.set_defaults(func=run_trust_list)


def load_booking_config(path: Path) -> BookingConfig:
    """Read the `[booking]` table of a kiosk TOML file.

    Raises:
        ConfigError: unreadable file, bad TOML, no [booking] table, or invalid values.
    """
    data = read_toml(path)
    table = data.get("booking")
    if not isinstance(table, dict):
        raise ConfigError([Problem(str(path), "booking", "", "no [booking] table; add one")])
    try:
        return parse(BookingConfig, table, source=str(path))
    except ConfigError as exc:
        raise ConfigError(
            [Problem(p.file, f"booking.{p.key}", p.value, p.message) for p in exc.problems]
        ) from None


def _config_or_problems(path: str | Path | None) -> BookingConfig | None:
    """The `[booking]` table of `path` (else $KIOSK_CONFIG, else the default), or None once its
    problems are printed, one a line."""
    try:
        return load_booking_config(Path(path or os.environ.get("KIOSK_CONFIG") or DEFAULT_CONFIG))
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None


def run_verify(args: argparse.Namespace) -> int:
    """Body of `kiosk verify`."""
    config = _config_or_problems(args.verify_config or getattr(args, "config", None))
    if config is None:
        return EXIT_CONFIG
    try:
        now = _now(args.now)
    except ValueError as exc:
        print(f"--now {args.now!r}: {exc}; use e.g. 2020-06-15T09:10:00+07:00", file=sys.stderr)
        return EXIT_CONFIG
    text = sys.stdin.read() if args.qr_text == "-" else args.qr_text
    verdict, age = _check(config, text, now, typed=args.code)
    print(json.dumps({**as_dict(verdict), "cache_age_s": age}, ensure_ascii=False))
    return EXIT_ACCEPTED if verdict.accepted else EXIT_REFUSED


def run_trust_list(args: argparse.Namespace) -> int:
    """Body of `kiosk trust-list show|install`."""
    from kiosk.booking.factory import open_cache

    config = _config_or_problems(args.verify_config)
    if config is None:
        return EXIT_CONFIG
    cache = open_cache(config)
    if args.trust_command == "install":
        try:
            # Bounded, and never /dev/zero or a FIFO's wait: the parser refuses what is over.
            document = read_small_file(args.file, MAX_DOCUMENT_BYTES)
        except OSError as exc:
            print(f"kiosk trust-list install: cannot read {args.file}: {exc.strerror}",
                  file=sys.stderr)  # fmt: skip
            return EXIT_REFUSED
        try:
            installed = cache.store_trust_list(document, None, datetime.now(UTC))
        except TrustListError as exc:
            print(f"kiosk trust-list install: {args.file}: {exc}; nothing changed",
                  file=sys.stderr)  # fmt: skip
            return EXIT_REFUSED
        except OSError as exc:
            print(f"kiosk trust-list install: cannot write {config.trust_list_path}: "
                  f"{exc.strerror}; check trust_list_path and its folder",
                  file=sys.stderr)  # fmt: skip
            return EXIT_REFUSED
        print(
            f"trust list {installed.sequence} installed at {config.trust_list_path}; restart the "
            "kiosk to use it: sudo systemctl restart lapak-kiosk",
            file=sys.stderr,
        )
    held = cache.trust_list()
    if held is None:
        print(f"no usable trust list at {config.trust_list_path}", file=sys.stderr)
        return EXIT_REFUSED
    print(json.dumps({
        "sequence": held.sequence,
        "issued_at": utc_iso(held.issued_at),
        "keys": [
            {"kid": key.kid.hex(), "valid_from": utc_iso(key.valid_from),
             "valid_until": utc_iso(key.valid_until),
             "withdrawn_at": None if key.withdrawn_at is None else utc_iso(key.withdrawn_at)}
            for key in held.keys.values()
        ],
    }, indent=1))  # fmt: skip
    return 0


def _check(
    config: BookingConfig, text: str, now: datetime, *, typed: bool
) -> tuple[Verdict, float | None]:
    from kiosk.booking.factory import open_booking  # loads requests only for this command

    services = open_booking(config)
    try:
        age = services.cache.cache_age_s(now)
        if typed:
            return services.lookup.lookup(text, now), age
        # Online, a token of a key this kiosk does not hold fetches the trust list once first.
        return services.refresh.verify(text, now), age
    finally:
        services.close()


def _now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("the time needs a UTC offset")
    return moment


def main(argv: list[str] | None = None) -> int:
    """`python -m kiosk.booking.cli verify ...`: the command without the rest of the kiosk CLI."""
    parser = argparse.ArgumentParser(prog="kiosk", description="booking token tools")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
