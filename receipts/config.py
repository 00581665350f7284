"""One `[printer]` table for every receipt printer: how it is reached, its paper, its timeouts."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator

from configkit import ConfigModel

Transport = Literal["usb", "serial", "network", "file", "simulated"]


class PrinterConfig(ConfigModel):
    """An ESC/POS receipt printer (the kiosk's tickets, the dropbox's slips)."""

    transport: Transport = Field("usb", description="How the printer is reached.")
    target: str = Field(
        "",
        description="usb: 'vendor:product' hex (e.g. '04b8:0e15'); serial: '/dev/ttyUSB0@19200'; "
        "network: 'host:9100'; file: '/dev/usb/lp0'; simulated: ignored.",
    )
    out_dir: Path | None = Field(
        None, description="simulated: write each receipt as a PNG here (none: keep in memory)."
    )
    columns: int = Field(
        32, ge=24, le=64, description="Characters per line in font A (58 mm: 32, 80 mm: 48)."
    )
    paper_dots: int = Field(
        384, ge=256, le=832, description="Printable width in dots (58 mm: 384, 80 mm: 576)."
    )
    status_timeout_s: float = Field(1.0, gt=0, le=30, description="Longest status read, s.")
    print_timeout_s: float = Field(5.0, gt=0, le=60, description="Longest receipt write, s.")

    def in_use(self) -> bool:
        """Whether the printer is fitted (an app with an optional printer says when it is not)."""
        return True

    def label(self) -> str:
        """The printer as a technician reads it in a log line: "usb 04b8:0e15", "simulated"."""
        simulated = self.transport == "simulated"
        return self.transport if simulated else f"{self.transport} {self.target}"

    @model_validator(mode="after")
    def _target_given(self) -> Self:
        if not self.in_use() or self.transport == "simulated":
            return self
        if not self.target:
            raise ValueError(f"printer.transport = {self.transport!r} needs printer.target")
        if self.transport == "usb":
            parts = self.target.split(":")
            try:
                ok = len(parts) == 2 and all(0 <= int(p, 16) <= 0xFFFF for p in parts)
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(
                    f"printer.target {self.target!r} is not 'vendor:product' in hex "
                    "(see `lsusb`, e.g. '04b8:0e15')"
                )
        if self.transport == "network":
            host, _, port = self.target.partition(":")
            port_ok = not port or (port.isdigit() and 1 <= int(port) <= 65535)
            if not host or "/" in host or not port_ok:
                raise ValueError(
                    f"printer.target {self.target!r} is not 'host' or 'host:port' with a port "
                    "1-65535 (e.g. '192.168.1.50:9100')"
                )
        if self.transport == "serial":
            _, _, baud = self.target.partition("@")
            if baud and not baud.isdigit():
                raise ValueError(
                    f"printer.target {self.target!r}: the baud rate after '@' is not a number "
                    "(e.g. '/dev/ttyUSB0@19200')"
                )
        return self
