"""Reason codes and the words a participant reads: Bahasa Indonesia first, English second."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from kiosk.bilingual import Bilingual
from kiosk.booking.model import Verdict
from uplink.booking.model import Booking
from uplink.branches import display_name

_DAYS_ID = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
_MONTHS_ID = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip
_DAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_ZONES_ID = {7 * 60: "WIB", 8 * 60: "WITA", 9 * 60: "WIT"}

_HELP_ID = "Anda juga dapat menghubungi Layanan Masyarakat 175."
_HELP_EN = "You can also call the public service line 175."
_REBOOK_ID = (
    "Pesan jadwal baru melalui aplikasi atau situs BPJAMSOSTEK, atau masukkan dokumen Anda "
    "ke dropbox di depan kantor. " + _HELP_ID
)
_REBOOK_EN = (
    "Book a new slot in the BPJAMSOSTEK app or website, or put your documents in the dropbox "
    "outside the office. " + _HELP_EN
)
_OFFICER_ID = "Silakan minta bantuan petugas di pintu masuk. " + _HELP_ID
_OFFICER_EN = "Please ask the officer at the entrance for help. " + _HELP_EN
_RESCAN_ID = "Tunjukkan kode QR sekali lagi, atau ketik kode pemesanan Anda."
_RESCAN_EN = "Show the QR code once more, or type your booking code."


@dataclass(frozen=True)
class Wording:
    """What a participant reads for one outcome: what happened and what to do next, each in
    both languages; `{placeholders}` are filled from the booking and rule."""

    message: Bilingual
    next_step: Bilingual


_NOT_GENUINE = Wording(
    Bilingual(
        "Kode QR pemesanan ini tidak dapat dipastikan keasliannya.",
        "This booking QR code could not be confirmed as genuine.",
    ),
    Bilingual(_OFFICER_ID, _OFFICER_EN),
)
_NOT_BOOKING = Wording(
    Bilingual(
        "Ini bukan kode QR pemesanan BPJAMSOSTEK.", "This is not a BPJAMSOSTEK booking QR code."
    ),
    Bilingual(
        "Buka aplikasi dan tunjukkan QR pemesanan Anda, atau ketik kode pemesanan.",
        "Open the app and show your booking QR code, or type your booking code.",
    ),
)

TEXTS: dict[str, Wording] = {
    "ok": Wording(
        Bilingual(
            "Pemesanan ditemukan: {service}, pukul {slot_id}.",
            "Booking found: {service}, {slot_en}.",
        ),
        Bilingual(
            "Silakan lanjut ke pengukuran suhu tubuh.", "Please continue to the temperature check."
        ),
    ),
    # The kiosk's clock is not synchronised: it cannot tell the day, so staff check it.
    "ok:staff_check": Wording(
        Bilingual(
            "Pemesanan ditemukan: {service}, pukul {slot_id}.",
            "Booking found: {service}, {slot_en}.",
        ),
        Bilingual(
            "Silakan lanjut ke pengukuran suhu tubuh; petugas akan memeriksa tanggal "
            "pemesanan Anda.",
            "Please continue to the temperature check; staff will check your booking's date.",
        ),
    ),
    "empty": Wording(
        Bilingual("Kode QR tidak terbaca.", "The QR code could not be read."),
        Bilingual(
            "Dekatkan layar ponsel, hindari pantulan cahaya, lalu coba lagi; atau ketik kode "
            "pemesanan Anda.",
            "Hold the phone screen closer, avoid glare and try again; or type your booking code.",
        ),
    ),
    "oversized": _NOT_BOOKING,
    "wrong_prefix": _NOT_BOOKING,
    "bad_encoding": Wording(
        Bilingual(
            "Kode QR pemesanan rusak atau tidak lengkap.",
            "The booking QR code is damaged or incomplete.",
        ),
        Bilingual(
            "Perbesar kode QR di layar ponsel dan coba lagi, atau ketik kode pemesanan Anda.",
            "Enlarge the QR code on your phone screen and try again, or type your booking code.",
        ),
    ),
    "unsupported_version": Wording(
        Bilingual(
            "Kode QR ini dibuat oleh versi aplikasi yang belum dikenal kios ini.",
            "This QR code comes from an app version this kiosk does not know yet.",
        ),
        Bilingual(
            "Ketik kode pemesanan Anda, atau minta bantuan petugas di pintu masuk.",
            "Type your booking code, or ask the officer at the entrance for help.",
        ),
    ),
    "unknown_key": _NOT_GENUINE,
    "key_withdrawn": Wording(
        Bilingual(
            "Kode QR pemesanan ini sudah diganti dengan yang baru.",
            "This booking QR code has been replaced by a new one.",
        ),
        Bilingual(
            "Buka aplikasi BPJAMSOSTEK untuk menampilkan kode QR terbaru, atau ketik kode "
            "pemesanan Anda.",
            "Open the BPJAMSOSTEK app to show the latest QR code, or type your booking code.",
        ),
    ),
    "key_unknown_offline": Wording(
        Bilingual(
            "Kios ini belum dapat memeriksa kode QR ini karena sedang tidak terhubung ke kantor "
            "pusat.",
            "This kiosk cannot check this QR code now: it cannot reach head office.",
        ),
        Bilingual(_OFFICER_ID, _OFFICER_EN),
    ),
    "key_unknown_retry": Wording(
        Bilingual(
            "Kios ini belum dapat memeriksa kode QR ini.",
            "This kiosk cannot check this QR code yet.",
        ),
        Bilingual(
            "Tunjukkan kode QR sekali lagi dalam 30 detik, atau minta bantuan petugas di pintu "
            "masuk.",
            "Show the QR code again in 30 seconds, or ask the officer at the entrance for help.",
        ),
    ),
    "key_not_valid": _NOT_GENUINE,
    "bad_signature": _NOT_GENUINE,
    "bad_content": _NOT_GENUINE,
    "not_yet_valid": Wording(
        Bilingual("Kode QR pemesanan ini belum berlaku.", "This booking QR code is not valid yet."),
        Bilingual(_OFFICER_ID, _OFFICER_EN),
    ),
    "expired": Wording(
        Bilingual(
            "Kode QR pemesanan ini sudah tidak berlaku.", "This booking QR code is no longer valid."
        ),
        Bilingual(_REBOOK_ID, _REBOOK_EN),
    ),
    "wrong_branch": Wording(
        Bilingual(
            "Pemesanan Anda untuk kantor cabang lain{branch}.",
            "Your booking is for another branch office{branch}.",
        ),
        Bilingual(
            "Silakan datang ke kantor cabang yang Anda pilih saat memesan, atau pesan ulang untuk "
            "kantor ini melalui aplikasi. " + _HELP_ID,
            "Please go to the branch you chose when booking, or book again for this office in the "
            "app. " + _HELP_EN,
        ),
    ),
    "wrong_day:tomorrow": Wording(
        Bilingual(
            "Pemesanan Anda untuk besok, {date_id}.", "Your booking is for tomorrow, {date_en}."
        ),
        Bilingual(
            "Silakan datang kembali besok pukul {slot_id}.", "Please come back tomorrow, {slot_en}."
        ),
    ),
    "wrong_day:later": Wording(
        Bilingual("Pemesanan Anda untuk {date_id}.", "Your booking is for {date_en}."),
        Bilingual(
            "Silakan datang kembali pada tanggal itu pukul {slot_id}.",
            "Please come back on that day, {slot_en}.",
        ),
    ),
    "wrong_day:yesterday": Wording(
        Bilingual(
            "Pemesanan Anda untuk kemarin, {date_id}.", "Your booking was for yesterday, {date_en}."
        ),
        Bilingual(_REBOOK_ID, _REBOOK_EN),
    ),
    "wrong_day:earlier": Wording(
        Bilingual(
            "Tanggal pemesanan Anda sudah lewat ({date_id}).",
            "The date of your booking has passed ({date_en}).",
        ),
        Bilingual(_REBOOK_ID, _REBOOK_EN),
    ),
    "too_early": Wording(
        Bilingual(
            "Jadwal Anda hari ini pukul {slot_id}. Anda datang terlalu awal.",
            "Your slot today is {slot_en}. You are too early.",
        ),
        Bilingual(
            "Silakan kembali mulai pukul {earliest_id}.", "Please come back from {earliest_en}."
        ),
    ),
    "too_late": Wording(
        Bilingual(
            "Jadwal Anda hari ini pukul {slot_id} sudah lewat.",
            "Your slot today, {slot_en}, has passed.",
        ),
        Bilingual(_REBOOK_ID, _REBOOK_EN),
    ),
    "cancelled": Wording(
        Bilingual("Pemesanan ini sudah dibatalkan.", "This booking has been cancelled."),
        Bilingual(_REBOOK_ID, _REBOOK_EN),
    ),
    "already_checked_in": Wording(
        Bilingual(
            "Pemesanan ini sudah digunakan untuk masuk{checked_in_id}.",
            "This booking has already been used to check in{checked_in_en}.",
        ),
        Bilingual(
            "Jika Anda belum menerima nomor antrean, silakan minta bantuan petugas.",
            "If you did not get a queue ticket, please ask an officer.",
        ),
    ),
    "no_trust_list": Wording(
        Bilingual(
            "Kios ini belum dapat memeriksa kode QR pemesanan.",
            "This kiosk cannot check booking QR codes yet.",
        ),
        Bilingual(_OFFICER_ID, _OFFICER_EN),
    ),
    "bad_code": Wording(
        Bilingual(
            "Kode pemesanan tidak valid. Mungkin ada huruf yang salah ketik.",
            "That booking code is not valid. A character may be mistyped.",
        ),
        Bilingual(
            "Kode terdiri dari 9 huruf dan angka, misalnya 7K3-QX9-M2A. Ketik ulang, atau "
            "tunjukkan kode QR pemesanan.",
            "The code has 9 letters and digits, for example 7K3-QX9-M2A. Type it again, or show "
            "your booking QR code.",
        ),
    ),
    "code_not_found": Wording(
        Bilingual("Kode pemesanan tidak ditemukan.", "That booking code was not found."),
        Bilingual(
            "Periksa kode di aplikasi atau email Anda. " + _HELP_ID,
            "Check the code in your app or e-mail. " + _HELP_EN,
        ),
    ),
    "lookup_offline": Wording(
        Bilingual(
            "Kios sedang tidak terhubung ke kantor pusat, sehingga kode yang diketik tidak dapat "
            "diperiksa.",
            "The kiosk is offline, so a typed code cannot be checked right now.",
        ),
        Bilingual(
            "Tunjukkan kode QR pemesanan dari aplikasi, atau minta bantuan petugas di pintu masuk.",
            "Show the booking QR code from the app, or ask the officer at the entrance for help.",
        ),
    ),
}

REASONS: frozenset[str] = frozenset(key.split(":")[0] for key in TEXTS)
"""Every reason code a Verdict can carry."""


def verdict(
    reason: str, booking: Booking | None = None, variant: str = "", **extra: str
) -> Verdict:
    """Build the Verdict for `reason`, filling the texts from the booking and `extra`.

    Args:
        reason: A code from REASONS.
        booking: The verified booking, if the signature verified.
        variant: A wording variant (e.g. "tomorrow" for "wrong_day").
        **extra: More placeholder values.
    """
    wording = TEXTS[f"{reason}:{variant}" if variant else reason]
    values = {"checked_in_id": "", "checked_in_en": "", **_booking_values(booking), **extra}
    message, next_step = wording.message.format(**values), wording.next_step.format(**values)
    return Verdict(
        accepted=reason == "ok",
        reason=reason,
        message_id=message.id,
        message_en=message.en,
        next_step_id=next_step.id,
        next_step_en=next_step.en,
        booking=booking,
    )


def date_id(day: date) -> str:
    """ "Senin, 15 Juni 2020"."""
    return f"{_DAYS_ID[day.weekday()]}, {day.day} {_MONTHS_ID[day.month - 1]} {day.year}"


def date_en(day: date) -> str:
    """ "Monday 15 June 2020"."""
    return f"{_DAYS_EN[day.weekday()]} {day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def time_id(moment: datetime) -> str:
    """ "09.00 WIB" (the Indonesian style, with the zone name where it has one)."""
    offset = moment.utcoffset() or timedelta(0)
    zone = _ZONES_ID.get(int(offset.total_seconds()) // 60)
    return f"{moment:%H.%M}" + (f" {zone}" if zone else "")


def time_en(moment: datetime) -> str:
    """ "09:00"."""
    return f"{moment:%H:%M}"


def _booking_values(booking: Booking | None) -> dict[str, str]:
    if booking is None:
        return {}
    start, end = booking.slot_start, booking.slot_end
    return {
        "service": booking.service,
        # The branch table's name, never the raw id; none at all for a branch it lacks.
        "branch": f" ({name})" if (name := display_name(booking.branch)) else "",
        "date_id": date_id(start.date()),
        "date_en": date_en(start.date()),
        "slot_id": f"{start:%H.%M}–{time_id(end)}",
        "slot_en": f"{time_en(start)}–{time_en(end)}",
    }
