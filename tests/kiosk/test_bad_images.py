"""`kiosk scan` and `kiosk checkin` on files that are not photos of codes: one line per file,
and on with the rest (a decompression bomb is never decoded)."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from kiosk.__main__ import main
from kiosk.sim.frames import place, qr_image


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A tiny PNG that declares `width` x `height` pixels (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    body = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
    path.write_bytes(body + chunk(b"IEND", b""))
    return path


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.png"
    Image.fromarray(place(qr_image("HELLO-KIOSK"))).save(path)
    return path


def test_scan_reports_each_bad_file_in_one_line_and_reads_the_rest(
    tmp_path: Path, good: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bomb = png_header_only(tmp_path / "bomb.png", 30_000, 30_000)  # 900 megapixels
    text = tmp_path / "notes.png"
    text.write_text("not an image at all")
    assert bomb.stat().st_size < 1000

    assert main(["scan", str(bomb), str(text), str(good)]) == 1
    out = capsys.readouterr()
    records = [json.loads(line) for line in out.out.splitlines()]
    assert [r["file"] for r in records] == [str(bomb), str(text), str(good)]
    assert "too many pixels" in records[0]["error"]
    assert "cannot read the image" in records[1]["error"]
    assert records[2]["texts"] == ["HELLO-KIOSK"]
    assert "Traceback" not in out.err


def test_checkin_skips_a_file_that_is_not_an_image_and_keeps_the_others(
    tmp_path: Path, good: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "notes.png"
    text.write_text("not an image at all")
    code = main(
        ["checkin", "--simulate", "--out", str(tmp_path / "out"), "--demo", "1",
         "--now", "2026-06-15T09:10:00+07:00", str(text), str(good)]
    )  # fmt: skip
    out = capsys.readouterr()
    assert code == 1
    records = [json.loads(line) for line in out.out.splitlines()]
    assert records[0] == {"file": str(text), "error": records[0]["error"]}
    assert len(records) >= 3  # the demo booking and the good image were still handled
    assert "Traceback" not in out.err
