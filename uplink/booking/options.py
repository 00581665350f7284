"""The `--service` option every tool shares: one name, the same values, the same help."""

from __future__ import annotations

import argparse
from typing import Any

from uplink.booking.model import SERVICES, Service, parse_service

SERVICE_VALUES = f"{', '.join(SERVICES[:-1])} or {SERVICES[-1]}, in any case"


def service_argument(text: str) -> Service:
    """`text` ("jkk", " JKK ") as a Service, for argparse.

    Raises:
        argparse.ArgumentTypeError: not one of JHT, JKK, JKM, JP (argparse prints it).
    """
    try:
        return parse_service(text.strip().upper())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc} (any case)") from None


def add_service_option(parser: argparse.ArgumentParser, what: str, **kwargs: Any) -> None:
    """Add `--service SERVICE` to `parser`; `what` says what the service is for, e.g. "the
    booking's claim programme" (the accepted values are added to the help)."""
    parser.add_argument(
        "--service",
        type=service_argument,
        metavar="SERVICE",
        help=f"{what}: {SERVICE_VALUES}",
        **kwargs,
    )
