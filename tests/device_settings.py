"""What a device was built with, read off the built object: two wiring paths that build "the
same" device are compared with it (`provision check`'s and the app's, the simulators' and the
app's)."""

from __future__ import annotations

import inspect
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel

OURS = {"kiosk", "dropbox_agent", "receipts", "uplink"}
PLAIN = (int, float, str, bool, bytes, Path, Enum, type(None))


def settings_of(device: object, depth: int = 0) -> dict[str, Any]:
    """What `device` was built with: its plain attributes, configs, the values its openers
    close over and the gpiozero pins it holds; only the kind of its runtime parts (locks,
    threads, queues)."""
    found: dict[str, Any] = {"kind": type(device).__qualname__}
    for name, value in vars(device).items():
        found[name] = _setting(value, depth)
    return found


def _setting(value: Any, depth: int) -> Any:
    if isinstance(value, PLAIN):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, list | tuple):
        return [_setting(v, depth) for v in value]
    if isinstance(value, dict):
        return {str(k): _setting(v, depth) for k, v in value.items()}
    if inspect.isfunction(value):
        closed = inspect.getclosurevars(value).nonlocals
        closes_over = {k: _setting(v, depth) for k, v in closed.items()}
        return {"function": value.__qualname__, **closes_over}
    if type(value).__module__.startswith("gpiozero"):
        return {"gpiozero": type(value).__name__, "pin": str(value.pin)}
    if depth < 2 and type(value).__module__.split(".")[0] in OURS and hasattr(value, "__dict__"):
        return settings_of(value, depth + 1)
    return type(value).__qualname__
