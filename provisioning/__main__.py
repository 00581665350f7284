"""`provision`: device identities, firmware rendering, fleet broker config and the self-test.

Exit codes:
  0  done (for `check`: every check passed or was skipped)
  1  a check failed, or an operation failed (the message says what to fix)
  2  usage or configuration error (bad arguments, unreadable or invalid file)
  3  refused by a provisioning rule (duplicate identity, unsafe id, plain MQTT to a
     non-loopback broker, existing CA, device already provisioned, service running)
  130  interrupted (Ctrl-C)
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from configkit import cli as scaffold
from configkit.helptext import teach
from provisioning import pki
from provisioning.cli import ca, check, device, fleet, install, render
from provisioning.cli.output import EXIT_FAILED, EXIT_REFUSED, EXIT_USAGE
from provisioning.errors import InvalidSetup, ProvisionError, Refused

logger = logging.getLogger(__name__)

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

EXAMPLES = """\
A new device in simulation, from nothing to a green self-test (three commands):
  provision ca init --dir demo/ca --name "Lapak Asik demo CA"
  provision device init --role dropbox --branch jakarta-salemba --root demo/dropbox --ca demo/ca
  provision check --root demo/dropbox --simulate --ca demo/ca
A kiosk also needs --trust-anchor KEY (`backoffice booking keygen` prints it).

On a Pi (as root), everything in one command, safe to rerun (docs/install-pi.md):
  provision install --role kiosk --wheel lapak_asik_appliance-0.1.0-py3-none-any.whl \\
      --branch jakarta-salemba --ca /mnt/lapak-ca --broker-host broker.jakarta-salemba.lan \\
      --trust-anchor KEY

Exit codes: 0 ok, 1 a check or operation failed, 2 usage or config error,
3 refused by a provisioning rule (duplicate identity, unsafe id, plain MQTT off loopback).
"""

# Each command group adds its subcommands (`register(sub)`) and gives one example per command,
# shown under its --help (configkit.helptext; a test holds every command to having one).
GROUPS = (ca, device, render, fleet, install, check)
COMMANDS: list[Register] = [group.register for group in GROUPS]


def build_parser() -> argparse.ArgumentParser:
    """The `provision` parser: the tool's options, then each command group's commands."""
    parser = scaffold.new_parser(
        "provision",
        "Provision Lapak Asik branch devices: identities, firmware, fleet broker "
        "config and the on-device self-test.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--ca-passphrase-fd",
        type=int,
        metavar="N",
        help="read a passphrase-protected CA key's passphrase from file descriptor N (scripts); "
        "on a terminal you are asked",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in COMMANDS:
        register(sub)
    teach(parser, {words: text for group in GROUPS for words, text in group.EXAMPLES.items()})
    return parser


# The errors provisioning knows, checked in order, each one line and its exit code.
FAILURES = (
    scaffold.Failure(Refused, EXIT_REFUSED, "refused: {error}"),
    scaffold.Failure(InvalidSetup, EXIT_USAGE, "error: {error}"),
    scaffold.Failure(ProvisionError, EXIT_FAILED, "error: {error}"),
    scaffold.Failure(
        PermissionError, EXIT_FAILED, "error: {error}; on a device, run provision with sudo"
    ),
    scaffold.Failure(OSError, EXIT_FAILED, "error: {error}"),
)


def main(argv: Sequence[str] | None = None) -> int:
    """The `provision` console script: one line per error, the documented exit code."""

    def prepare(args: argparse.Namespace) -> None:
        pki.passphrase_source = ca.passphrase_source(args.ca_passphrase_fd)

    return scaffold.run(build_parser(), argv, failures=FAILURES, prepare=prepare)


if __name__ == "__main__":
    sys.exit(main())
