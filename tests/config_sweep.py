"""Config sweeps: every field's extreme values, generated from the config models, started for real.

`sweep_cases(model, data)` walks a pydantic config model alongside a valid config's data and
yields, for each field it reaches (nested tables, the first element of a table array), the values
at the edges of what the field's type and constraints allow: bounds, 0, the smallest positive
float, huge numbers, empty and huge strings, NUL and newlines, and odd paths (a directory,
/dev/null, a missing parent, a file that cannot be written, junk). A field of a type this module
does not know fails the sweep loudly, so a new field is swept or the sweep is taught its type.

`start_all(runs, ...)` then starts each accepted config with the tool's real `main()` in its own
process, forked from a server that imported the tools once (multiprocessing's forkserver), several
at a time, and judges how each start ended (`Outcome`).
"""

from __future__ import annotations

import faulthandler
import math
import multiprocessing
import os
import re
import signal
import socket
import sys
import time
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel, SecretStr

# A value is either written as is, or made per case in the case's own folder (paths).
Value = Any
MakeValue = Callable[[Path], Value]
FLOAT_LIMIT = 1e9  # configkit refuses larger magnitudes; its edge is swept


@dataclass(frozen=True)
class Case:
    """One field set to one value (everything else as in the valid base config)."""

    key: tuple[str | int, ...]
    label: str
    value: Value | MakeValue
    made: bool = False  # `value` is a MakeValue

    @property
    def name(self) -> str:
        return ".".join(str(part) for part in self.key) + " = " + self.label

    def resolve(self, folder: Path) -> Value:
        return self.value(folder) if self.made else self.value


class UnsweptField(TypeError):
    """A config field whose type the sweep does not know: teach `_values_for` about it."""


def sweep_cases(
    model: type[BaseModel], data: Mapping[str, Any], *, strict: bool = True
) -> list[Case]:
    """Every (field, extreme value) pair of `model`, walking nested models through `data`.

    Args:
        strict: a table array without an element in `data` is an error (its fields would go
            unswept); False only to check that every field's type is known.
    """
    return list(_walk(model, data, (), strict))


def _walk(
    model: type[BaseModel], data: Mapping[str, Any], prefix: tuple[str | int, ...], strict: bool
) -> Iterator[Case]:
    for name, field in model.model_fields.items():
        key = (*prefix, name)
        annotation, optional = _unwrap_optional(field.annotation)
        nested = _model_of(annotation)
        if nested is not None:
            yield from _walk(nested, data.get(name) or {}, key, strict)
            continue
        item_model = _list_item_model(annotation)
        if item_model is not None:
            yield Case(key, "[] (none)", [])
            items = data.get(name) or []
            if items:
                yield from _walk(item_model, items[0], (*key, 0), strict)
            elif strict:
                raise UnsweptField(
                    f"{'.'.join(str(k) for k in key)}: the base config has no element, so its "
                    "fields go unswept; give it one"
                )
            continue
        values = _values_for(annotation, field.metadata, key)
        if optional:
            values.insert(0, ("left out", None))
        base = data.get(name, _ABSENT)
        for label, value in values:
            if not callable(value) and value == base:
                continue
            yield Case(key, label, value, made=callable(value))


_ABSENT = object()


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            return args[0], True
    return annotation, False


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _list_item_model(annotation: Any) -> type[BaseModel] | None:
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        return _model_of(item)
    return None


def _values_for(
    annotation: Any, metadata: Sequence[Any], key: tuple[str | int, ...]
) -> list[tuple[str, Value | MakeValue]]:
    origin = typing.get_origin(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        inner, *more = typing.get_args(annotation)
        return _values_for(inner, [*metadata, *more], key)
    if origin is Literal:
        return [(repr(choice), choice) for choice in typing.get_args(annotation)]
    if annotation is bool:
        return [("true", True), ("false", False)]
    if annotation is int:
        return _int_values(metadata)
    if annotation is float:
        return _float_values(metadata)
    if annotation is str:
        return _str_values(metadata)
    if annotation is SecretStr:
        return _secret_values()
    if isinstance(annotation, type) and issubclass(annotation, Path):
        return _path_values()
    if origin is list and typing.get_args(annotation) == (str,):
        return [
            ("[]", []),
            ('[""]', [""]),
            ("[huge string]", ["x" * 10_000]),
            ("[NUL]", ["\x00"]),
            ("[2000 items]", [f"item-{i}" for i in range(2000)]),
        ]
    if origin is dict and typing.get_args(annotation) == (str, str):
        return [
            ("{}", {}),
            ('{"" = ""}', {"": ""}),
            ('{x = "Asia/Jakarta"}', {"x": "Asia/Jakarta"}),
            ('{x = "Asia/Atlantis"}', {"x": "Asia/Atlantis"}),
        ]
    raise UnsweptField(
        f"{'.'.join(str(k) for k in key)}: no sweep values for type {annotation!r}; add them to "
        "tests/config_sweep.py"
    )


def _bounds(metadata: Sequence[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in metadata:
        for name in ("ge", "gt", "le", "lt", "min_length", "max_length", "pattern"):
            value = getattr(item, name, None)
            if value is not None and isinstance(
                item,
                annotated_types.Ge
                | annotated_types.Gt
                | annotated_types.Le
                | annotated_types.Lt
                | annotated_types.MinLen
                | annotated_types.MaxLen,
            ):
                found[name] = value
            elif name == "pattern" and value is not None:
                found[name] = value
    return found


def _int_values(metadata: Sequence[Any]) -> list[tuple[str, Value]]:
    b = _bounds(metadata)
    values: dict[int, str] = {}
    if "ge" in b:
        values.setdefault(int(b["ge"]), "min")
    if "gt" in b:
        values.setdefault(int(b["gt"]) + 1, "min")
    if "le" in b:
        values.setdefault(int(b["le"]), "max")
    if "lt" in b:
        values.setdefault(int(b["lt"]) - 1, "max")
    for value, label in ((0, "0"), (-1, "-1"), (2**63 - 1, "huge"), (-(2**63), "huge negative")):
        values.setdefault(value, label)
    return [(f"{value} ({label})", value) for value, label in values.items()]


def _float_values(metadata: Sequence[Any]) -> list[tuple[str, Value]]:
    b = _bounds(metadata)
    values: dict[float, str] = {}
    if "ge" in b:
        values.setdefault(float(b["ge"]), "min")
    if "gt" in b:
        values.setdefault(math.nextafter(float(b["gt"]), math.inf), "smallest above min")
    if "le" in b:
        values.setdefault(float(b["le"]), "max")
    if "lt" in b:
        values.setdefault(math.nextafter(float(b["lt"]), -math.inf), "largest below max")
    for value, label in (
        (0.0, "0"),
        (5e-324, "smallest positive"),
        (FLOAT_LIMIT, "huge"),
        (-FLOAT_LIMIT, "huge negative"),
    ):
        values.setdefault(value, label)
    return [(f"{value!r} ({label})", value) for value, label in values.items()]


def _str_values(metadata: Sequence[Any]) -> list[tuple[str, Value]]:
    b = _bounds(metadata)
    longest = int(b.get("max_length", 10_000))
    return [
        ('"" (empty)', ""),
        ('" " (blank)', " "),
        (f"{longest} characters", "x" * longest),
        ("non-ASCII", "Kantor Cabang Denpasar é 日本"),
        ("a newline", "a\nb"),
        ("NUL", "a\x00b"),
    ]


def _secret_values() -> list[tuple[str, Value]]:
    return [
        ("nothing listening", "postgresql://nobody@127.0.0.1:9/none"),
        ("no host", "postgresql://"),
        ("port out of range", "postgresql://nobody@127.0.0.1:99999/none"),
        ("unknown host", "postgresql://nobody@no-such-host.invalid/none"),
        ("NUL", "postgresql://nobody@127.0.0.1/a\x00b"),
    ]


def _path_values() -> list[tuple[str, MakeValue]]:
    def directory(folder: Path) -> str:
        (folder / "a-folder").mkdir(exist_ok=True)
        return str(folder / "a-folder")

    def junk(folder: Path) -> str:
        (folder / "junk").write_bytes(b"\x00\xffnot what you think\n" * 64)
        return str(folder / "junk")

    def empty(folder: Path) -> str:
        (folder / "empty").write_bytes(b"")
        return str(folder / "empty")

    def no_permission(folder: Path) -> str:
        (folder / "locked").write_bytes(b"")
        (folder / "locked").chmod(0)
        return str(folder / "locked")

    values: list[tuple[str, MakeValue]] = [
        ("a directory", directory),
        ("/dev/null", lambda _f: "/dev/null"),
        ("a missing parent", lambda f: str(f / "missing" / "parent" / "file")),
        ("read-only even for root (/proc/version)", lambda _f: "/proc/version"),
        ("junk", junk),
        ("empty file", empty),
        ('"" (empty)', lambda _f: ""),
        ("relative", lambda _f: "relative-file"),
    ]
    if os.geteuid() != 0:  # root reads and writes a file of mode 000 as any other
        values.append(("mode 000", no_permission))
    return values


def set_key(data: dict[str, Any], key: tuple[str | int, ...], value: Value) -> dict[str, Any]:
    """A copy of `data` with `key` set to `value` (None: the key left out)."""
    out = _deep_copy(data)
    node: Any = out
    for part in key[:-1]:
        if isinstance(node, dict) and part not in node:
            node[part] = {}
        node = node[part]
    if value is None:
        node.pop(key[-1], None)
    else:
        node[key[-1]] = value
    return out


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


# --- starting the tools ---------------------------------------------------------------------

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")
SETTLE_S = 0.3  # after READY=1, let the loops run this long before SIGTERM
START_S = 4.0  # a tool neither ready nor stopped by then is running (waiting for its broker)
# After SIGTERM, the longest wait for the tool to end: well beyond the units' TimeoutStopSec
# (15 s), as a loaded machine stretches the uplink's thread joins (5 s each); the time each
# stop took is reported, so a slow one shows without failing the sweep.
STOP_S = 45.0


@dataclass(frozen=True)
class Run:
    """One start to make: the tool, its arguments, the case's folder and a label."""

    tool: str
    argv: list[str]
    folder: Path
    label: str


@dataclass(frozen=True)
class Outcome:
    """How one start ended."""

    run: Run
    kind: Literal["ran", "refused", "traceback", "bad"]
    exit_code: int | None
    ready: bool
    detail: str  # the refusal line, or what was wrong
    stop_s: float | None = None  # SIGTERM to exit, when the sweep stopped it


MAINS = {
    "kiosk": "kiosk.__main__",
    "dropbox-agent": "dropbox_agent.__main__",
    "backoffice": "backoffice.__main__",
}


def _child(module: str, argv: list[str], folder: str, env: dict[str, str]) -> None:
    """In the forked process: the tool's `main(argv)` with its output in the case's folder."""
    import importlib

    # In a parallel run (pytest-xdist) the sweep's many starts give way to the other workers'
    # tests, whose simulations run on the wall clock; alone they take the CPU as before.
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.nice(5)
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        os.environ.pop(name, None)
    os.environ.update(env)
    os.chdir(folder)
    out = os.open(os.path.join(folder, "stdout"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err = os.open(os.path.join(folder, "stderr"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(out, 1)
    os.dup2(err, 2)
    sys.stdout = open(1, "w", buffering=1, closefd=False)
    sys.stderr = open(2, "w", buffering=1, closefd=False)
    # Where it hangs, if it does not stop: the parent asks for every thread's stack first.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    main = importlib.import_module(module).main
    sys.exit(main(argv))


def start_all(
    runs: Sequence[Run],
    *,
    env: Mapping[str, str] | None = None,
    parallel: int = 8,
    start_s: float = START_S,
    says_ready: bool = True,
) -> list[Outcome]:
    """Start each run's tool for real, `parallel` at a time, and judge how each ended.

    Args:
        start_s: a tool neither ready (systemd's READY=1) nor stopped by then is running.
        says_ready: the tool tells systemd READY=1 whenever it started (whatever its broker
            does); one stopped before saying it was not judged, and fails the sweep.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(MAINS.values()))
    pending = list(runs)
    active: list[_Active] = []
    outcomes: list[Outcome] = []
    while pending or active:
        while pending and len(active) < parallel:
            item = _Active.start(context, pending.pop(0), dict(env or {}), start_s)
            item.says_ready = says_ready
            active.append(item)
        time.sleep(0.05)
        still = []
        for item in active:
            outcome = item.poll()
            if outcome is None:
                still.append(item)
            else:
                outcomes.append(outcome)
        active = still
    return outcomes


@dataclass
class _Active:
    run: Run
    process: Any
    sock: socket.socket
    started: float
    start_s: float
    ready_at: float | None = None
    terminated_at: float | None = None
    says_ready: bool = True

    @classmethod
    def start(cls, context: Any, run: Run, env: dict[str, str], start_s: float) -> _Active:
        address = f"\0lapak-sweep-{os.getpid()}-{time.monotonic_ns()}"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(address)
        sock.setblocking(False)
        env = {**env, "NOTIFY_SOCKET": "@" + address[1:]}
        process = context.Process(
            target=_child, args=(MAINS[run.tool], run.argv, str(run.folder), env), daemon=True
        )
        process.start()
        return cls(run, process, sock, time.monotonic(), start_s)

    def poll(self) -> Outcome | None:
        now = time.monotonic()
        try:
            while True:
                if b"READY=1" in self.sock.recv(4096) and self.ready_at is None:
                    self.ready_at = now
        except BlockingIOError:
            pass
        if self.process.exitcode is not None:
            self.sock.close()
            return self._judge(self.process.exitcode)
        if self.terminated_at is None:
            settled = self.ready_at is not None and now - self.ready_at >= SETTLE_S
            if settled or now - self.started >= self.start_s:
                self.process.terminate()
                self.terminated_at = now
        elif now - self.terminated_at >= STOP_S:
            os.kill(self.process.pid, signal.SIGUSR1)  # faulthandler: the stacks into stderr
            time.sleep(0.5)
            self.process.kill()
            self.process.join(5)
            self.sock.close()
            err = (self.run.folder / "stderr").read_text(errors="replace")
            stacks = err[err.find("Thread 0x") :] if "Thread 0x" in err else err[-1500:]
            return Outcome(
                self.run,
                "bad",
                None,
                self.ready_at is not None,
                f"did not stop within {STOP_S:g} s of SIGTERM; its threads then:\n{stacks}",
            )
        return None

    def _judge(self, code: int) -> Outcome:
        self.process.join()
        err = (self.run.folder / "stderr").read_text(errors="replace")
        ready = self.ready_at is not None
        if "Traceback" in err or "Exception in thread" in err:
            start = err.find("Traceback")
            tail = err[start:] if start >= 0 else err
            return Outcome(self.run, "traceback", code, ready, tail.strip()[-600:])
        plain = [line for line in err.splitlines() if line.strip() and not LOG_LINE.match(line)]
        if code in (1, 2) and len(plain) == 1 and not ready:
            # Refused by itself (under load a slow start may see our SIGTERM only after that).
            return Outcome(self.run, "refused", code, ready, plain[0])
        if self.terminated_at is not None:
            stop_s = round(time.monotonic() - self.terminated_at, 1)
            if code == -15 and not ready and self.says_ready:
                detail = f"neither ready nor stopped {self.start_s:g} s after its start"
                return Outcome(self.run, "bad", code, ready, detail, stop_s)
            if code in (0, -15):
                return Outcome(self.run, "ran", code, ready, "", stop_s)
            return Outcome(self.run, "bad", code, ready, f"exit {code} after SIGTERM: {err[-300:]}")
        return Outcome(
            self.run, "bad", code, ready, f"exit {code} by itself, {len(plain)} lines: {plain[:4]}"
        )
