"""Loading and validating TOML configuration files with pydantic v2."""

from __future__ import annotations

import difflib
import errno
import math
import os
import stat
import sys
import tomllib
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo

EXIT_CONFIG_ERROR = 2
# Larger numbers are typos in any of our configs (1e9 s is 31 years, 1e9 MiB a petabyte) and
# overflow where they are turned into byte counts or deadlines.
FLOAT_LIMIT = 1e9
# Our configs are a few kB; a file larger than this is not one (a log, an image, /dev/zero).
MAX_CONFIG_BYTES = 1024 * 1024
_SECRET_HINTS = ("password", "secret", "token", "private_key")
_MISSING = object()

M = TypeVar("M", bound=BaseModel)


class ConfigModel(BaseModel):
    """Base of every config model: strict about unknown keys, immutable once loaded, and no
    number that is not finite or beyond `FLOAT_LIMIT` (`inf`, `nan`, `1e308`)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False
    )

    @field_validator("*", mode="after")
    @classmethod
    def _finite_and_sane(cls, value: Any) -> Any:
        if isinstance(value, float) and not (math.isfinite(value) and abs(value) <= FLOAT_LIMIT):
            raise ValueError(f"must be a finite number no larger than {FLOAT_LIMIT:g}")
        return value


def _names_a_path(field: FieldInfo) -> bool:
    annotation = field.annotation
    return annotation is Path or (
        typing.get_origin(annotation) in (typing.Union, types.UnionType)
        and Path in typing.get_args(annotation)
    )


@runtime_checkable
class ChecksFiles(Protocol):
    """A config part naming files that must be usable at start (keys, certificates)."""

    def file_problems(self) -> list[tuple[str, str, str, Severity]]:
        """(key, value, message, severity) for each problem with the files it names."""
        ...


Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config file."""

    file: str
    key: str
    value: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        value = f" = {self.value}" if self.value else ""
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{prefix}{where}{value}: {self.message}"


class ConfigError(ValueError):
    """A config file could not be read or does not match its schema."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def load(model: type[M], path: str | Path) -> M:
    """Read `path` as TOML and validate it against `model`.

    Raises:
        ConfigError: the file is missing, is not TOML, or does not match the model.
    """
    return parse(model, read_toml(path), source=str(path))


def read_toml(path: str | Path) -> dict[str, Any]:
    """The TOML document in `path` (a file or a pipe): UTF-8 text, at most `MAX_CONFIG_BYTES`.

    Read by `read_small_file`: a device or a huge file is refused without reading it all, and
    a FIFO nobody writes to reads as empty instead of waiting for ever.

    Raises:
        ConfigError: one problem saying what is wrong with the file and how to fix it.
    """
    path = Path(path)

    def problem(message: str) -> ConfigError:
        return ConfigError([Problem(str(path), "", "", message)])

    try:
        raw = read_small_file(path, MAX_CONFIG_BYTES)
    except OSError as exc:
        raise problem(f"cannot read the file ({exc.strerror}); check the path") from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise problem(
            f"larger than {MAX_CONFIG_BYTES >> 20} MiB: not a config file; check the path"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise problem(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); save the file as UTF-8"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise problem(f"not valid TOML: {exc}; fix the syntax there") from exc


def read_small_file(path: str | Path, limit: int) -> bytes:
    """The bytes of a file a person names (a config, a trust list, a CSR): at most `limit` + 1
    of them, so a caller can tell a file over `limit` without reading it all.

    A regular file or a pipe (`<(...)`) is read; a device or a socket is refused (`/dev/zero`
    was read until memory ran out), and a FIFO nobody writes to reads as empty (it blocked for
    ever).

    Raises:
        OSError: the file cannot be opened or read, or is a folder, a device or a socket
            (`strerror` says which).
    """
    # O_NONBLOCK: opening a FIFO for reading would block until a writer comes.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            raise OSError(errno.EINVAL, "not a file but a device or a socket", str(path))
        os.set_blocking(fd, True)  # a pipe's writer may still be writing: wait for its end
        chunks: list[bytes] = []
        size = 0
        while size <= limit:  # a read may return fewer bytes than asked before the end
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def parse(model: type[M], data: Mapping[str, Any], source: str = "<config>") -> M:
    """Validate already-parsed data against `model`, reporting problems against `source`."""
    # pydantic reads "" as Path("."), the working folder: never what a config means.
    empty = [
        Problem(source, key, "''", "is empty; give a path (absolute, e.g. under /var/lib/lapak)")
        for key in _empty_paths(model, data, [])
    ]
    try:
        config = model.model_validate(data)
    except ValidationError as exc:
        problems = _problems(model, data, exc, source)
        raise ConfigError(
            empty + [p for p in problems if p.key not in {e.key for e in empty}]
        ) from None
    if empty:
        raise ConfigError(empty)
    return config


def _empty_paths(model: type[BaseModel], data: Any, path: list[str]) -> Iterator[str]:
    """The keys of path fields given as "" in `data`, nested tables and table arrays too."""
    if not isinstance(data, Mapping):
        return
    for name, field in model.model_fields.items():
        value = data.get(name)
        if value == "" and _names_a_path(field):
            yield ".".join([*path, name])
        for inner in _models_in(field.annotation):
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                where = [*path, name, str(i)] if isinstance(value, list) else [*path, name]
                yield from _empty_paths(inner, item, where)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def check_command(model: type[BaseModel], path: str | Path) -> int:
    """Validate a file and the files it names, and report like every `<tool> config check
    FILE` does (the same checks as `check_files` at each tool's start).

    Returns:
        0 when valid (warnings printed), 2 when not (one line per problem on stderr).
    """
    try:
        config = load(model, path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_CONFIG_ERROR
    # A file not installed yet (a config checked before provisioning) is a warning here; the
    # tool itself refuses to start without it. A file that is there but unusable is an error.
    problems = [
        replace(p, severity="warning") if p.value and not Path(p.value).exists() else p
        for p in file_problems(config, str(path))
    ]
    for problem in problems:
        print(problem, file=sys.stderr)
    if any(p.severity == "error" for p in problems):
        return EXIT_CONFIG_ERROR
    print(f"{path}: OK")
    return 0


def file_problems(config: BaseModel, source: str) -> list[Problem]:
    """Every problem with the files `config` names (errors and warnings), found by opening
    them as the tools will: each `ChecksFiles` part of the config says its own."""
    problems: list[Problem] = []
    _walk_files(config, [], source, problems)
    return problems


def check_files(config: BaseModel, source: str) -> list[Problem]:
    """Open the files `config` names, as each tool does at start.

    Returns:
        the warnings (e.g. a private key others can read), for the caller to show.

    Raises:
        ConfigError: a file is missing or unusable (exit code 2 in CLIs).
    """
    problems = file_problems(config, source)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ConfigError(errors)
    return problems


def _walk_files(node: Any, path: list[str], source: str, out: list[Problem]) -> None:
    if isinstance(node, ChecksFiles):
        prefix = ".".join(path)
        for key, value, message, severity in node.file_problems():
            full = f"{prefix}.{key}" if prefix else key
            out.append(Problem(source, full, value, message, severity))
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            _walk_files(getattr(node, name), [*path, name], source, out)
    elif isinstance(node, list | tuple):
        for i, item in enumerate(node):
            _walk_files(item, [*path, str(i)], source, out)


def _problems(
    model: type[BaseModel], data: Mapping[str, Any], exc: ValidationError, source: str
) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = [str(part) for part in err["loc"]]
        key = ".".join(loc)
        value = _lookup(data, err["loc"])
        if err["type"] == "extra_forbidden":
            message = "unknown key" + _suggestion(model, err["loc"]) + "; remove or rename it"
        elif err["type"] == "missing":
            message = "required key is missing; add it"
        elif err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            # "Input tag 'dance' found using 'action' does not match any of the expected tags":
            # name the key that chooses the kind, its value, the kinds and the nearest one.
            key, value, message = _tag_problem(err, key, value)
        elif err["type"] == "value_error":
            # Our validators' own words: pydantic's "Value error, " before them says nothing.
            message = err["msg"].removeprefix("Value error, ")
        else:
            message = err["msg"]
        shown = "" if value is _MISSING else _show(key.split("."), value)
        problems.append(Problem(source, key, shown, message))
    return problems


def _tag_problem(err: Any, key: str, value: Any) -> tuple[str, Any, str]:
    """(key, value, message) of a tagged union's unknown or missing tag (`action = "dance"`)."""
    ctx = err.get("ctx") or {}
    name = str(ctx.get("discriminator", "")).strip("'\"")
    if not name:
        return key, value, err["msg"]
    where = f"{key}.{name}" if key else name
    kinds = [t.strip().strip("'\"") for t in str(ctx.get("expected_tags", "")).split(",")]
    kinds = [kind for kind in kinds if kind]
    if err["type"] == "union_tag_not_found" or not isinstance(value, Mapping):
        return where, _MISSING, "required key is missing; add it"
    tag = value.get(name, _MISSING)
    close = difflib.get_close_matches(str(tag), kinds, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return where, tag, f"unknown {name}{hint}; use one of {', '.join(kinds)}"


def _lookup(data: Any, loc: tuple[int | str, ...]) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return data


def _show(loc: list[str], value: Any) -> str:
    if loc and any(hint in loc[-1].lower() for hint in _SECRET_HINTS):
        return "'***'"
    if isinstance(value, SecretStr):
        return "'***'"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _suggestion(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """Say which known key was probably meant, ESPHome style."""
    fields = _fields_at(model, loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), fields, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _fields_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    current: Any = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(str(part))
        if field is None:
            return []
        current = field.annotation
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []
