"""Render our ESC/POS ticket bytes to a PNG, as a thermal printer would print them.

No ESC/POS-to-image tool exists on the registries we use, so this covers the commands the
receipts emit (`receipts.escpos_printer`) and python-escpos adds around them: ESC @, ESC !,
ESC E, ESC a, ESC t, ESC d, GS !, GS ( k (QR model/size/error level/store/print), GS V, LF.
Anything else raises `EscposRenderError`, so a layout change that emits new bytes is noticed.
Font A is 12 x 24 dot cells; the paper is 384 dots wide (58 mm). Text is drawn a run at a time
in a monospace font (DejaVu Sans Mono, Debian's ``fonts-dejavu-core``), so letters sit evenly as
on the printer; without it, each letter is centred in its own cell of Pillow's bundled font.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from io import BytesIO

import numpy as np
import zxingcpp
from PIL import Image, ImageDraw, ImageFont

from receipts.errors import EscposRenderError

CELL_W, CELL_H = 12, 24
MARGIN = 8
ESC, GS, LF = 0x1B, 0x1D, 0x0A
_EC_LEVELS = {48: "L", 49: "M", 50: "Q", 51: "H"}


@dataclass
class _State:
    align: int = 0
    bold: bool = False
    width: int = 1
    height: int = 1
    qr_size: int = 3
    qr_ec: str = "L"
    qr_data: bytes = b""
    line: list[tuple[str, int, int, bool]] = field(default_factory=list)  # char, w, h, bold


MONO_FONTS = {
    False: ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",),
    True: ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",),
}
"""Where the monospace font is looked for (regular, bold): Debian's ``fonts-dejavu-core``."""
_FONT_PX = 20  # DejaVu Sans Mono at 20 px: 12.04 px per letter, 23.3 px from top to bottom


@cache
def mono_font(bold: bool) -> ImageFont.FreeTypeFont | None:
    """The monospace font for text runs, None when it is not installed here."""
    for path in MONO_FONTS[bold]:
        try:
            return ImageFont.truetype(path, size=_FONT_PX)
        except OSError:
            continue
    return None


@cache
def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=20)


def _run(text: str, bold: bool) -> Image.Image:
    """A run of letters in font A cells (12 x 24 dots each), drawn whole."""
    font = mono_font(bold)
    size = (CELL_W * len(text), CELL_H)
    if font is None:
        run = Image.new("L", size, 255)
        for i, char in enumerate(text):
            run.paste(_glyph(char, bold), (i * CELL_W, 0))
        return run
    drawn = Image.new("L", (int(font.getlength(text)) + 1, CELL_H), 255)
    ImageDraw.Draw(drawn).text((0, 0), text, font=font, fill=0)
    # A monospace advance is a hair over 12 dots at this size: fit the run to its cells.
    return drawn.resize(size, Image.Resampling.LANCZOS)


@cache
def _glyph(char: str, bold: bool) -> Image.Image:
    """One character cell: drawn wide, then squeezed to 12 dots like the printer's font A."""
    wide = CELL_W * 3 // 2
    cell = Image.new("L", (wide, CELL_H), 255)
    draw = ImageDraw.Draw(cell)
    box = draw.textbbox((0, 0), char, font=_font())
    x = (wide - (box[2] - box[0])) // 2 - box[0]
    draw.text((x, 1), char, font=_font(), fill=0)
    if bold:
        draw.text((x + 1, 1), char, font=_font(), fill=0)
    return cell.resize((CELL_W, CELL_H), Image.Resampling.LANCZOS)


class _Canvas:
    """The paper: `paper_dots` printable dots with a white margin either side."""

    def __init__(self, paper_dots: int) -> None:
        self.paper = paper_dots
        self.width = paper_dots + 2 * MARGIN
        self.blocks: list[Image.Image] = []

    def add(self, block: Image.Image, align: int) -> None:
        row = Image.new("L", (self.width, block.height), 255)
        free = self.paper - block.width
        x = MARGIN + max(0, {0: 0, 1: free // 2, 2: free}.get(align, 0))
        row.paste(block.crop((0, 0, min(block.width, self.paper), block.height)), (x, 0))
        self.blocks.append(row)

    def feed(self, dots: int) -> None:
        self.blocks.append(Image.new("L", (self.width, dots), 255))

    def cut(self) -> None:
        row = Image.new("L", (self.width, 16), 255)
        draw = ImageDraw.Draw(row)
        for x in range(0, self.width, 12):
            draw.line([(x, 8), (x + 6, 8)], fill=0)
        self.blocks.append(row)

    def image(self) -> Image.Image:
        height = sum(b.height for b in self.blocks) or 1
        out = Image.new("L", (self.width, height), 255)
        y = 0
        for block in self.blocks:
            out.paste(block, (0, y))
            y += block.height
        return out


def render(data: bytes, *, paper_dots: int = 384) -> Image.Image:
    """Render ESC/POS bytes to a grayscale image of the printed paper.

    Raises:
        EscposRenderError: an unsupported command or truncated bytes.
    """
    state = _State()
    canvas = _Canvas(paper_dots)
    i = 0

    def need(count: int) -> bytes:
        if i + count > len(data):
            raise EscposRenderError(f"truncated command at byte {i}")
        return data[i : i + count]

    while i < len(data):
        byte = data[i]
        if byte == LF:
            _flush(canvas, state)
            i += 1
        elif byte == ESC:
            cmd, arg = need(3)[1], data[i + 2] if i + 2 < len(data) else None
            if cmd == ord("@"):
                state = _State()
                i += 2
                continue
            if arg is None:
                raise EscposRenderError(f"truncated ESC command at byte {i}")
            if cmd == ord("!"):
                state.bold = bool(arg & 0x08)
                state.height = 2 if arg & 0x10 else 1
                state.width = 2 if arg & 0x20 else 1
            elif cmd == ord("E"):
                state.bold = bool(arg & 1)
            elif cmd == ord("a"):
                state.align = arg - 48 if arg >= 48 else arg
            elif cmd == ord("d"):
                _flush(canvas, state)
                canvas.feed(arg * CELL_H)
            elif cmd not in (ord("t"), ord("-"), ord("M")):
                raise EscposRenderError(f"unsupported command ESC {chr(cmd)!r} at byte {i}")
            i += 3
        elif byte == GS:
            cmd = need(2)[1]
            if cmd == ord("!"):
                arg = need(3)[2]
                state.width, state.height = (arg >> 4) + 1, (arg & 0x0F) + 1
                i += 3
            elif cmd == ord("V"):
                mode = need(3)[2]
                i += 4 if mode in (65, 66) else 3
                _flush(canvas, state)
                canvas.cut()
            elif cmd == ord("("):
                head = need(5)
                if head[2] != ord("k"):
                    raise EscposRenderError(
                        f"unsupported command GS ( {chr(head[2])!r} at byte {i}"
                    )
                length = head[3] | head[4] << 8
                body = need(5 + length)[5:]
                _qr_function(canvas, state, body)
                i += 5 + length
            else:
                raise EscposRenderError(f"unsupported command GS {chr(cmd)!r} at byte {i}")
        elif byte >= 0x20:
            state.line.append((chr(byte), state.width, state.height, state.bold))
            i += 1
        else:
            raise EscposRenderError(f"unsupported control byte {byte:#04x} at byte {i}")
    _flush(canvas, state)
    return canvas.image()


def render_png(data: bytes, *, paper_dots: int = 384) -> bytes:
    """`render` as PNG file bytes."""
    buffer = BytesIO()
    render(data, paper_dots=paper_dots).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _flush(canvas: _Canvas, state: _State) -> None:
    """Print the line buffer (an empty line feeds one line of the current height)."""
    if not state.line:
        canvas.feed(CELL_H * state.height)
        return
    height = max(h for _, _, h, _ in state.line) * CELL_H
    width = sum(w for _, w, _, _ in state.line) * CELL_W
    block = Image.new("L", (width, height), 255)
    x = 0
    # Letters of one style form a run, drawn whole; the printer scales its dots for sizes.
    runs: list[tuple[str, int, int, bool]] = []
    for char, w, h, bold in state.line:
        if runs and runs[-1][1:] == (w, h, bold):
            runs[-1] = (runs[-1][0] + char, w, h, bold)
        else:
            runs.append((char, w, h, bold))
    for text, w, h, bold in runs:
        run = _run(text, bold)
        run = run.resize((run.width * w, run.height * h), Image.Resampling.NEAREST)
        block.paste(run, (x, height - run.height))
        x += run.width
    canvas.add(block, state.align)
    state.line = []


def _qr_function(canvas: _Canvas, state: _State, body: bytes) -> None:
    if len(body) < 2 or body[0] != ord("1"):
        raise EscposRenderError("only QR code (cn=49) 2D symbols are supported")
    fn, args = body[1], body[2:]
    if fn == ord("A"):
        return  # model: we always draw model 2
    if fn == ord("C"):
        state.qr_size = args[0] if args else 3
    elif fn == ord("E"):
        state.qr_ec = _EC_LEVELS.get(args[0], "L") if args else "L"
    elif fn == ord("P"):
        state.qr_data = args[1:]  # skip m
    elif fn == ord("Q"):
        if state.line:
            _flush(canvas, state)
        code = zxingcpp.create_barcode(
            state.qr_data.decode("utf-8"), zxingcpp.BarcodeFormat.QRCode, ec_level=state.qr_ec
        )
        pixels = np.array(code.to_image(scale=state.qr_size, add_quiet_zones=False))
        canvas.add(Image.fromarray(pixels.astype(np.uint8), "L"), state.align)
    else:
        raise EscposRenderError(f"unsupported QR function {chr(fn)!r}")
