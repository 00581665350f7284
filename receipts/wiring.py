"""The one place a `[printer]` table becomes a printer: simulated, or real through python-escpos."""

from __future__ import annotations

import stat
from collections.abc import Callable, Sequence
from pathlib import Path

from receipts.config import PrinterConfig
from receipts.elements import Element
from receipts.status import ReceiptPrinter


def build_printer(
    config: PrinterConfig,
    *,
    kind: Callable[[Sequence[Element]], str] = lambda _elements: "slip",
) -> ReceiptPrinter:
    """The printer `config` names, with its timeouts; nothing is opened before its first use.

    Args:
        config: the app's ``[printer]`` table.
        kind: simulated only: names each job's PNG (``{kind}-NNNN.png``).
    """
    if config.transport == "simulated":
        from receipts.sim import SimulatedPrinter

        return SimulatedPrinter(
            config.out_dir, columns=config.columns, paper_dots=config.paper_dots, kind=kind
        )
    from receipts.escpos_printer import connect

    return connect(config)


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
