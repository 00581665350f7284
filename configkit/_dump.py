"""Writing a config model back to TOML (for provisioning and tests); the inverse of `load`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr


def dump_toml(model: BaseModel) -> str:
    """Serialize `model` as TOML: nested models become tables, None values are left out."""
    lines: list[str] = []
    _table(lines, [], _plain(model))
    return "\n".join(lines).strip() + "\n"


def _plain(model: BaseModel) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if value is None:
            continue
        out[name] = _plain(value) if isinstance(value, BaseModel) else value
    return out


def _table(lines: list[str], path: list[str], data: Mapping[str, Any]) -> None:
    scalars = {k: v for k, v in data.items() if not isinstance(v, Mapping)}
    tables = {k: v for k, v in data.items() if isinstance(v, Mapping)}
    if path and (scalars or not tables):
        lines.append(f"\n[{'.'.join(path)}]")
    lines.extend(f"{key} = {_value(value)}" for key, value in scalars.items())
    for key, value in tables.items():
        _table(lines, [*path, key], value)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")
