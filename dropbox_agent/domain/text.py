"""What people read: state summary, alerts and the deposit slip (Bahasa Indonesia first)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from receipts import Cut, Element, Feed, Line, QrCode

if TYPE_CHECKING:
    from dropbox_agent.domain.machine import BoxMachine

FAULT_TEXT = {
    "fill_sensor:no_echo": "SENSOR ISI GAGAL / fill sensor fault",
    "printer:paper_out": "KERTAS STRUK HABIS / receipt paper out",
    "printer:offline": "PRINTER MATI / printer offline",
    "outbox:storage_full": "PENYIMPANAN PENUH / storage full",
}


def summary(
    pending: int, door_open: bool, fill_percent: int | None, uv: object | None = None
) -> str:
    """One line for `backoffice watch`, e.g. "12 titipan menunggu · pintu tertutup · isi 40%"."""
    parts = [
        f"{pending} titipan menunggu",
        "pintu TERBUKA" if door_open else "pintu tertutup",
        f"isi {fill_percent}%" if fill_percent is not None else "isi ?",
    ]
    if uv is not None:
        parts.append("UV-C aktif")
    return " · ".join(parts)


def alerts(machine: BoxMachine) -> list[str]:
    """Short alert strings, most urgent first."""
    out: list[str] = []
    if machine.door_forced:
        out.append("PINTU DIBUKA PAKSA / door forced")
    if machine.tamper_active:
        out.append("SABOTASE KOTAK / tamper")
    if machine.locked_out:
        out.append("PIN SALAH BERULANG / PIN lockout")
    if machine.jam_active:
        out.append("SLOT MACET / slot jammed")
    if machine.mismatch is not None:
        expected, counted = machine.mismatch
        out.append(f"SELISIH HITUNG {expected}≠{counted} / count mismatch")
    if machine.count_overdue:
        out.append("HITUNGAN BELUM DIKONFIRMASI / count not confirmed")
    if machine.fill_level == "full":
        out.append("KOTAK PENUH / box full")
    elif machine.fill_level == "nearly_full":
        out.append("HAMPIR PENUH / nearly full")
    out.extend(FAULT_TEXT.get(fault, fault) for fault in sorted(machine.faults))
    return out


def slip_lines(
    *, deposit_no: int, box_id: str, when: str, code: str, booking_ref: str | None, box_full: bool
) -> list[Element]:
    """The deposit slip as receipt elements (the printer fits them to its paper).

    ASCII only: receipt printers' code pages differ, and every line must print everywhere.
    """
    lines: list[Element] = [
        Line("TANDA TERIMA TITIPAN", "center", "tall", bold=True),
        Line("Deposit receipt", "center"),
        Feed(),
        Line(f"No. {deposit_no:06d}", "center", "double", bold=True),
        Line(f"Kotak / Box : {box_id}"),
        Line(f"Waktu / Time: {when}"),
    ]
    if booking_ref:
        lines.append(Line(f"Booking     : {booking_ref}"))
    lines += [
        Feed(),
        Line("Kode lacak / Lookup code:"),
        Line(code, "center", "double", bold=True),
        QrCode(code),
        Line("Simpan slip ini. Tanyakan status dokumen dengan kode di atas."),
        Line("Keep this slip; quote the code to ask about your documents."),
    ]
    if box_full:
        lines += [
            Feed(),
            Line("KOTAK PENUH", "center", "tall", bold=True),
            Line("Titipan berikutnya: ke loket."),
            Line("Box full: next documents to the counter."),
        ]
    lines.append(Cut())
    return lines
