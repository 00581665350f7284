"""The one place a `[printer]` table becomes a printer: simulated, or real through python-escpos."""

from __future__ import annotations

import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from receipts.config import PrinterConfig
from receipts.elements import Element
from receipts.status import ReceiptPrinter

if TYPE_CHECKING:
    from receipts.sim import SimulatedPrinter

JobKind = Callable[[Sequence[Element]], str]
"""Names a simulated job's PNG from its elements (``{kind}-NNNN.png``)."""


def _slip(_elements: Sequence[Element]) -> str:
    return "slip"


def build_printer(config: PrinterConfig, *, kind: JobKind = _slip) -> ReceiptPrinter:
    """The printer `config` names, with its timeouts; nothing is opened before its first use.

    Args:
        config: the app's ``[printer]`` table.
        kind: simulated only: names each job's PNG (``{kind}-NNNN.png``).
    """
    if config.transport == "simulated":
        return build_simulated_printer(config, kind=kind)
    from receipts.escpos_printer import connect

    return connect(config)


def build_simulated_printer(
    config: PrinterConfig,
    *,
    kind: JobKind = _slip,
    paper_left: int | None = None,
    render: bool = True,
) -> SimulatedPrinter:
    """The simulated twin of the printer `config` sets up (whatever its transport): its
    columns and paper width, PNGs into its `out_dir` (in memory without one). The one place a
    simulated receipt printer is made: `build_printer` makes it here too, so a simulation prints
    as the app would.

    Args:
        config: the app's ``[printer]`` table.
        kind: names each job's PNG (``{kind}-NNNN.png``).
        paper_left: receipts' worth of paper on the roll (None: endless).
        render: write the PNGs (False: keep the bytes only, for speed).
    """
    from receipts.sim import SimulatedPrinter

    return SimulatedPrinter(
        config.out_dir,
        columns=config.columns,
        paper_dots=config.paper_dots,
        paper_left=paper_left,
        render=render,
        kind=kind,
    )


def printer_usable(config: PrinterConfig) -> tuple[bool, str]:
    """Whether the printer `config` names can be used here, asked without opening it.

    A simulated printer always can. A `file` transport needs a character device: writing to a
    missing node would create a plain file and "print" into it. Otherwise python-escpos says
    whether it has the transport's library (the printer itself answers `status()`).
    """
    if config.transport == "simulated":
        return True, "simulated printer"
    if config.transport == "file" and not _is_char_device(Path(config.target)):
        return False, (
            f"{config.target} is not a printer device: plug the USB printer in and switch it on "
            "(the udev rule makes /dev/lapak-printer)"
        )
    from receipts.escpos_printer import is_usable

    return is_usable(config.transport, config.target)


def _is_char_device(path: Path) -> bool:
    try:
        return stat.S_ISCHR(path.stat().st_mode)
    except OSError:
        return False
