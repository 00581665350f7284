"""Loading and validating TOML configuration files with pydantic v2."""

from __future__ import annotations

import difflib
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

EXIT_CONFIG_ERROR = 2
_SECRET_HINTS = ("password", "secret", "token", "private_key")
_MISSING = object()

M = TypeVar("M", bound=BaseModel)


class ConfigModel(BaseModel):
    """Base of every config model: strict about unknown keys, immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config file."""

    file: str
    key: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        value = f" = {self.value}" if self.value else ""
        return f"{where}{value}: {self.message}"


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
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            [Problem(str(path), "", "", f"cannot read the file ({exc.strerror}); check the path")]
        ) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            [Problem(str(path), "", "", f"not valid TOML: {exc}; fix the syntax there")]
        ) from exc
    return parse(model, data, source=str(path))


def parse(model: type[M], data: Mapping[str, Any], source: str = "<config>") -> M:
    """Validate already-parsed data against `model`, reporting problems against `source`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems(model, data, exc, source)) from None


def check_command(model: type[BaseModel], path: str | Path) -> int:
    """Validate a file and report like every `<tool> config check FILE` does.

    Returns:
        0 when valid, 2 when not (one line per problem on stderr).
    """
    try:
        load(model, path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_CONFIG_ERROR
    print(f"{path}: OK")
    return 0


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
        else:
            message = err["msg"]
        shown = "" if value is _MISSING else _show(loc, value)
        problems.append(Problem(source, key, shown, message))
    return problems


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
