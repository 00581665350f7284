"""Writing a config model back to TOML (for provisioning and tests); the inverse of `load`."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr


def dump_toml(model: BaseModel | Mapping[str, Any]) -> str:
    """Serialize `model` (or plain config data) as TOML: nested models and mappings become
    tables, None values are left out."""
    lines: list[str] = []
    _table(lines, [], _plain(model) if isinstance(model, BaseModel) else model)
    return "\n".join(lines).strip() + "\n"


def _plain(model: BaseModel) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if value is None:
            continue
        if isinstance(value, BaseModel):
            value = _plain(value)
        elif isinstance(value, list | tuple) and value and isinstance(value[0], BaseModel):
            value = [_plain(item) for item in value]
        out[name] = value
    return out


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[0], Mapping)


def _table(
    lines: list[str], path: list[str], data: Mapping[str, Any], *, header: str | None = None
) -> None:
    scalars = {
        k: v for k, v in data.items() if not isinstance(v, Mapping) and not _is_table_array(v)
    }
    tables = {k: v for k, v in data.items() if isinstance(v, Mapping)}
    arrays = {k: v for k, v in data.items() if _is_table_array(v)}
    if header is not None:
        lines.append(header)
    elif path and (scalars or not (tables or arrays)):
        lines.append(f"\n[{'.'.join(_key(p) for p in path)}]")
    lines.extend(
        f"{_key(key)} = {_value(value)}" for key, value in scalars.items() if value is not None
    )
    for key, value in tables.items():
        _table(lines, [*path, key], value)
    for key, items in arrays.items():
        # Each [[a.b]] header starts one element; its own sub-tables follow it.
        for item in items:
            _table(
                lines, [*path, key], item, header=f"\n[[{'.'.join(_key(p) for p in [*path, key])}]]"
            )


def _key(key: str) -> str:
    """A bare key when TOML allows one, else a quoted one (`"" = ...`, `"a.b" = ...`)."""
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


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
