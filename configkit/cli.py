"""One command-line scaffold for the four tools: `-v`, logging, exit codes and stop signals.

Every tool (`kiosk`, `dropbox-agent`, `backoffice`, `provision`) builds its argparse parser with
`new_parser` and runs it with `run`, so they share:

- `-v/--verbose`: debug logging, and the traceback of an unexpected error;
- logging to stderr in one format, at the level the tool chooses for the command (a service
  logs INFO, a one-shot command stays quiet at WARNING);
- exit codes: 0 ok, 1 a failure at run time (one line says what), 2 a configuration or usage
  error (each problem of an invalid config file on its own line: file, key, value, fix),
  130 interrupted (Ctrl-C during a one-shot command); a tool may add its own (`provision`: 3);
- never a traceback to a user: the errors a tool knows become one line and their exit code
  (`Failure`), a path that cannot be used (an OSError naming a file) one line naming it and
  exit 1, anything else one line and exit 1;
- `stop_on_signals`: SIGTERM (systemd's stop) and SIGINT (Ctrl-C) set an event the service's
  loop waits on, so a service stops cleanly (flushes, closes its stores) and exits 0.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from types import FrameType

from configkit._load import ConfigError

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


MAX_SPEED = 10_000.0
"""The fastest a simulation's clock runs (a branch's whole day in about 3 s)."""


def _bounded(text: str, high: float, what: str, example: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; {example}") from None
    if not (math.isfinite(value) and 0 < value <= high):
        raise argparse.ArgumentTypeError(
            f"{text}: give {what} above 0 and at most {high:g}; {example}"
        )
    return value


def speed_factor(text: str) -> float:
    """argparse type of a simulation's `--speed`: a finite factor above 0, at most MAX_SPEED
    (inf or 1e308 reached the clock and stopped it with an OverflowError)."""
    return _bounded(text, MAX_SPEED, "a factor", "e.g. 1 or 10")


def seconds(high: float) -> Callable[[str], float]:
    """argparse type of a duration in seconds: finite, above 0, at most `high`."""

    def parse(text: str) -> float:
        return _bounded(text, high, "seconds", "e.g. 10")

    return parse


def calendar_day(text: str) -> date:
    """argparse type of a `--date`: a calendar day written YYYY-MM-DD (argparse's own line,
    "invalid fromisoformat value", said neither what was wrong nor the form)."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        # Say the calendar's reason (month 13, 30 February), not the parser's ("Invalid isoformat").
        reason = str(exc) if "must be in" in str(exc) or "range" in str(exc) else "not a date"
        raise argparse.ArgumentTypeError(
            f"{text!r}: {reason}; use YYYY-MM-DD, e.g. 2020-06-15"
        ) from None


def whole_number(low: int, high: int, example: str) -> Callable[[str], int]:
    """argparse type of a count: a whole number from `low` to `high` (a message's schema would
    refuse it later as an 'unexpected error')."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; {example}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text}: give {low} to {high}; {example}")
        return value

    return parse


@dataclass(frozen=True)
class Failure:
    """An error a tool knows, turned into one line on stderr and an exit code.

    Attributes:
        errors: the exception class (or classes) this covers; the first matching entry wins.
        code: the exit code.
        line: the line printed, a `str.format` template with `{tool}`, `{command}` (the
            command's first word, e.g. "run") and `{error}` (the exception's text).
    """

    errors: type[BaseException] | tuple[type[BaseException], ...]
    code: int
    line: str = "{tool} {command}: {error}"


def new_parser(
    prog: str,
    description: str | None,
    *,
    epilog: str | None = None,
    formatter_class: type[argparse.HelpFormatter] = argparse.HelpFormatter,
) -> argparse.ArgumentParser:
    """The tool's top-level parser, with the shared `-v/--verbose` option."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description, epilog=epilog, formatter_class=formatter_class
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="debug logging (and tracebacks)"
    )
    return parser


def configure_logging(verbose: bool, level: int = logging.WARNING) -> None:
    """Log to stderr in the tools' one format: DEBUG with `-v`, else `level`."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else level, format=LOG_FORMAT, stream=sys.stderr
    )


@contextmanager
def stop_on_signals(on_stop: Callable[[], None] | None = None) -> Iterator[threading.Event]:
    """SIGTERM and SIGINT set the event yielded (and call `on_stop`, which must not block):
    a service's loop waits on it and stops cleanly. The previous handlers are back on exit.

    The handler itself only writes the signal's number to a pipe: Python runs it between two
    bytecodes of the main thread, which may be inside `stop.wait()` holding the event's lock
    (or inside a log call holding the handler's) right then; taking that lock again there
    deadlocks the service, which then ignores every later SIGTERM. A thread of its own reads
    the pipe, sets the event and calls `on_stop`.

    Call it on the main thread (Python delivers signals there only).
    """
    stop = threading.Event()
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)

    def handle(signum: int, _frame: FrameType | None) -> None:
        try:
            os.write(write_fd, bytes([signum]))
        except OSError:  # a full pipe: a stop is on its way already
            pass

    def relay() -> None:
        while signums := os.read(read_fd, 64):
            for signum in signums:
                if signum == _END_RELAY:
                    return
                logger.debug("signal %s: stopping", signal.Signals(signum).name)
                if on_stop is not None:
                    on_stop()
                stop.set()

    relay_thread = threading.Thread(target=relay, name="stop-on-signals", daemon=True)
    relay_thread.start()
    previous = {sig: signal.signal(sig, handle) for sig in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.write(write_fd, bytes([_END_RELAY]))
        relay_thread.join(5.0)
        os.close(write_fd)
        os.close(read_fd)


_END_RELAY = 0  # no signal has the number 0


def command_words(args: argparse.Namespace) -> str:
    """The command run, as typed after the tool, e.g. "booking issue" (from the parsers' dests)."""
    words = [args.command] if getattr(args, "command", None) else []
    words += [
        value
        for key, value in vars(args).items()
        if key.endswith("_command") and key != "command" and isinstance(value, str)
    ]
    return " ".join(words)


def run(
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
    *,
    failures: Sequence[Failure] = (),
    log_level: Callable[[argparse.Namespace], int] = lambda _args: logging.WARNING,
    prepare: Callable[[argparse.Namespace], None] | None = None,
) -> int:
    """Parse `argv`, set up logging, run the command's `func` and return the exit code.

    Args:
        parser: the tool's parser (from `new_parser`); each command sets `func(args) -> int`.
        argv: the arguments (None: `sys.argv[1:]`). Bad usage exits 2 (argparse).
        failures: the errors the tool turns into one line and an exit code, checked in order.
        log_level: the logging level for the parsed command when not verbose.
        prepare: called with the parsed arguments before the command runs.
    """
    args = parser.parse_args(argv)
    configure_logging(args.verbose, log_level(args))
    tool = parser.prog
    if prepare is not None:
        prepare(args)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{tool}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        for failure in failures:
            if isinstance(exc, failure.errors):
                line = failure.line.format(tool=tool, command=args.command, error=exc)
                print(line, file=sys.stderr)
                return failure.code
        # Not an error the tool knows: one line for the user, the traceback under -v.
        logger.debug("%s %s failed", tool, command_words(args), exc_info=True)
        if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
            # A path the user named (an --out folder on a read-only disk, a file in a folder
            # that does not exist): which one and why, not the exception's class.
            print(
                f"{tool} {command_words(args)}: {exc.filename}: {exc.strerror}; check the path",
                file=sys.stderr,
            )
            return EXIT_FAILED
        hint = "" if args.verbose else " (-v shows where)"
        print(
            f"{tool} {command_words(args)}: unexpected error: {type(exc).__name__}: {exc}{hint}",
            file=sys.stderr,
        )
        return EXIT_FAILED
