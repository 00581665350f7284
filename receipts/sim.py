"""A simulated receipt printer: real ESC/POS bytes, rendered to PNG, with paper and faults."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from receipts.elements import Element
from receipts.errors import PrinterError
from receipts.escpos_printer import escpos_bytes
from receipts.render import render_png
from receipts.status import PaperStatus


@dataclass(frozen=True)
class Printed:
    """One job the simulated printer printed."""

    elements: tuple[Element, ...]
    data: bytes
    png_path: Path | None


class SimulatedPrinter:
    """A `ReceiptPrinter` that keeps each job's elements and bytes and, with `out_dir`, writes it
    as a PNG (``{kind}-NNNN.png``, numbered in print order; `kind` names a job from its elements,
    "slip" unless told otherwise).

    Drive it: `paper_left` (None = endless), `set_status(PaperStatus.OFFLINE)`, `fail_next(code)`
    (the next print raises), `fail(code)` (every print raises until `fail(None)`),
    `silent=True` (status answers nothing: unknown).
    """

    def __init__(
        self,
        out_dir: Path | None = None,
        *,
        columns: int = 32,
        paper_dots: int = 384,
        paper_left: int | None = None,
        render: bool = True,
        kind: Callable[[Sequence[Element]], str] = lambda _elements: "slip",
    ) -> None:
        self.out_dir = out_dir
        self.columns = columns
        self.paper_dots = paper_dots
        self.paper_left = paper_left
        self.render = render and out_dir is not None
        self.jobs: list[Printed] = []
        self.status_reads = 0
        self.silent = False
        self._status = PaperStatus.OK
        self._kind = kind
        self._fail_code: str | None = None
        self._fail_every: str | None = None
        self._lock = threading.Lock()
        if out_dir is not None:
            try:
                out_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                why = "it is a file" if out_dir.exists() else exc.strerror
                raise PrinterError(
                    f"printer.out_dir {out_dir}: cannot make the folder ({why}); give a folder "
                    "the service can write",
                    code="offline",
                ) from exc

    def close(self) -> None:
        """Nothing to release (the real printers close their device)."""

    def set_status(self, status: PaperStatus) -> None:
        self._status = status

    def fail_next(self, code: str = "offline") -> None:
        """Make the next print raise `PrinterError(code)`."""
        self._fail_code = code

    def fail(self, code: str | None) -> None:
        """Make every print raise `PrinterError(code)` ("paper_out", "offline"), or succeed."""
        self._fail_every = code

    def status(self) -> PaperStatus:
        self.status_reads += 1
        if self.silent:
            return PaperStatus.UNKNOWN
        if self.paper_left == 0:
            return PaperStatus.OUT
        return self._status

    def print_elements(self, elements: Sequence[Element]) -> None:
        with self._lock:
            if self._fail_code is not None:
                code, self._fail_code = self._fail_code, None
                raise PrinterError(f"simulated printer failure: {code}", code)
            if self._fail_every is not None:
                code = self._fail_every
                raise PrinterError(f"simulated printer failure: {code}", code)
            if self._status is PaperStatus.OFFLINE:
                raise PrinterError("simulated printer is offline", "offline")
            if self.paper_left == 0:
                raise PrinterError("simulated printer is out of paper", "paper_out")
            data = escpos_bytes(elements, columns=self.columns)
            path = None
            if self.render and self.out_dir is not None:
                path = self.out_dir / f"{self._kind(elements)}-{len(self.jobs) + 1:04d}.png"
                path.write_bytes(render_png(data, paper_dots=self.paper_dots))
            self.jobs.append(Printed(tuple(elements), data, path))
            if self.paper_left is not None:
                self.paper_left -= 1
