"""What the kiosk shows: one small observable state, in Bahasa Indonesia first and English second.

The engine publishes a new `Screen` on every change; a UI (Kivy, later) only renders it and sends
back the participant's choices (`options`). Texts live here, once, for screen and slip alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kiosk.booking import Verdict
from kiosk.domain.temperature import GateResult
from kiosk.domain.tickets import SERVICE_NAMES, Ticket
from uplink.booking.model import SERVICES

REFERRAL_STEPS_ID: tuple[str, ...] = (
    "Silakan pulang dan beristirahat; klaim tetap bisa diajukan tanpa datang ke kantor:",
    "1. Ajukan klaim online di lapakasik.bpjsketenagakerjaan.go.id atau aplikasi JMO.",
    "2. Atau masukkan berkas Anda ke dropbox di depan kantor.",
    "3. Pertanyaan: hubungi Layanan Masyarakat 175.",
)
REFERRAL_STEPS_EN: tuple[str, ...] = (
    "Please go home and rest; you can still claim without coming in:",
    "1. Claim online at lapakasik.bpjsketenagakerjaan.go.id or in the JMO app.",
    "2. Or put your documents in the dropbox in front of the office.",
    "3. Questions: call the public service line 175.",
)


class Phase(StrEnum):
    """Where a check-in stands. IDLE is the welcome screen with the camera scanning."""

    IDLE = "idle"
    CHOOSE_SERVICE = "choose_service"  # walk-in: pick a programme
    MEASURING = "measuring"  # temperature: hold your forehead in front of the sensor
    RESTING = "resting"  # above the threshold once: rest, then measure again
    REFUSED = "refused"  # booking not accepted (reason + next step)
    REFERRED = "referred"  # temperature too high twice: no ticket, what to do instead
    TICKET = "ticket"  # the number, printed or shown on screen only
    CHECKING = "checking"  # a typed booking code is being looked up online
    OUT_OF_SERVICE = "out_of_service"  # cannot check anyone in (e.g. outbox full)


@dataclass(frozen=True)
class Screen:
    """The kiosk's observable state.

    Attributes:
        phase: what the kiosk is doing.
        title_id / title_en: the headline.
        body_id / body_en: explanation lines.
        next_id / next_en: the participant's next step.
        big_text: a large number to show (the queue number), if any.
        options: choices the UI offers (service codes on CHOOSE_SERVICE).
        wait_outside: the office is full: show the "wait outside" banner.
        printed: on TICKET, False when the ticket could not be printed (number on screen only).
        checkin_id: the check-in in progress or just finished, if any.
    """

    phase: Phase
    title_id: str
    title_en: str
    body_id: tuple[str, ...] = ()
    body_en: tuple[str, ...] = ()
    next_id: str = ""
    next_en: str = ""
    big_text: str = ""
    options: tuple[str, ...] = ()
    wait_outside: bool = False
    printed: bool = True
    checkin_id: str = ""


FULL_ID = "Ruangan sedang penuh. Mohon menunggu di luar sampai nomor Anda dipanggil."
FULL_EN = "The office is full. Please wait outside until your number is called."


def idle(
    *, full: bool, out_of_paper: bool = False, data_age: tuple[str, str] | None = None
) -> Screen:
    """The welcome screen; `data_age` is how old the booking data is (Indonesian, English)."""
    body_id = ["Tunjukkan kode QR booking Anda ke kamera,", "atau tekan TANPA BOOKING."]
    body_en = ["Show your booking QR code to the camera,", "or press NO BOOKING."]
    if full:
        body_id.append(FULL_ID)
        body_en.append(FULL_EN)
    if out_of_paper:
        body_id.append("Tiket tidak dapat dicetak; nomor antrean akan tampil di layar.")
        body_en.append("Tickets cannot be printed; your number will show on screen.")
    if data_age is not None:
        body_id.append(data_age[0])
        body_en.append(data_age[1])
    return Screen(
        Phase.IDLE,
        "Selamat datang di Lapak Asik",
        "Welcome to Lapak Asik",
        tuple(body_id),
        tuple(body_en),
        "Pindai QR atau pilih TANPA BOOKING",
        "Scan your QR or choose NO BOOKING",
        wait_outside=full,
    )


def choose_service(checkin_id: str) -> Screen:
    return Screen(
        Phase.CHOOSE_SERVICE,
        "Pilih layanan klaim",
        "Choose your claim",
        tuple(f"{code}: {SERVICE_NAMES[code][0]}" for code in SERVICES),
        tuple(f"{code}: {SERVICE_NAMES[code][1]}" for code in SERVICES),
        "Sentuh layanan yang Anda butuhkan",
        "Touch the service you need",
        options=SERVICES,
        checkin_id=checkin_id,
    )


def checking_code() -> Screen:
    """A typed booking code is being looked up (a few seconds at most)."""
    return Screen(
        Phase.CHECKING,
        "Memeriksa kode booking Anda...",
        "Checking your booking code...",
        ("Mohon tunggu sebentar.",),
        ("Please wait a moment.",),
        "Tunggu hasilnya di layar ini",
        "Wait for the result on this screen",
    )


def measuring(checkin_id: str, *, present: bool, attempt: int) -> Screen:
    body_id = ("Pengukuran ulang setelah istirahat.",) if attempt > 1 else ()
    body_en = ("Measuring again after the rest.",) if attempt > 1 else ()
    if present:
        title = ("Tahan sebentar, sedang mengukur suhu...", "Hold still, measuring...")
    else:
        title = ("Dekatkan dahi Anda ke sensor suhu", "Bring your forehead to the sensor")
    return Screen(
        Phase.MEASURING,
        *title,
        body_id,
        body_en,
        "Jarak 3-5 cm, lepaskan topi/poni dari dahi",
        "3-5 cm away, keep hair and caps off your forehead",
        checkin_id=checkin_id,
    )


def resting(checkin_id: str) -> Screen:
    return Screen(
        Phase.RESTING,
        "Silakan duduk dan istirahat sebentar",
        "Please sit and rest for a moment",
        ("Suhu Anda sedikit tinggi. Kami akan mengukur sekali lagi.",),
        ("Your temperature is a little high. We will measure once more.",),
        "Tunggu sampai layar memanggil Anda kembali",
        "Wait until the screen calls you back",
        checkin_id=checkin_id,
    )


def referred(checkin_id: str, result: GateResult) -> Screen:
    return Screen(
        Phase.REFERRED,
        "Mohon maaf, Anda belum dapat masuk hari ini",
        "Sorry, you cannot come in today",
        (f"Suhu tubuh Anda di atas batas (diukur {result.attempts} kali).", *REFERRAL_STEPS_ID),
        (
            f"Your temperature is above the limit (measured {result.attempts} times).",
            *REFERRAL_STEPS_EN,
        ),
        "Ambil slip petunjuk dan hubungi 175 bila perlu",
        "Take the instruction slip; call 175 if needed",
        checkin_id=checkin_id,
    )


def refused(verdict: Verdict) -> Screen:
    return Screen(
        Phase.REFUSED,
        "Booking tidak dapat digunakan",
        "This booking cannot be used",
        (verdict.message_id,),
        (verdict.message_en,),
        verdict.next_step_id,
        verdict.next_step_en,
    )


def already_claimed(checkin_id: str, *, number: str = "") -> Screen:
    """The booking was checked in before; with `number`, this kiosk gave it that number."""
    body_id = ["Satu booking hanya untuk satu tiket antrean."]
    body_en = ["One booking gives one queue ticket."]
    if number:
        body_id.insert(0, f"Nomor antrean Anda: {number}")
        body_en.insert(0, f"Your queue number: {number}")
    return Screen(
        Phase.REFUSED,
        "Booking ini sudah dipakai untuk check-in",
        "This booking has already been checked in",
        tuple(body_id),
        tuple(body_en),
        "Tanyakan kepada petugas bila Anda belum menerima tiket",
        "Ask an officer if you did not get a ticket",
        big_text=number,
        checkin_id=checkin_id,
    )


def temperature_unavailable(checkin_id: str) -> Screen:
    """The sensor gave no usable reading and the config says an officer measures by hand."""
    return Screen(
        Phase.REFUSED,
        "Suhu Anda belum dapat diukur",
        "Your temperature could not be measured",
        ("Petugas di pintu masuk akan mengukur suhu Anda.",),
        ("The officer at the entrance will take your temperature.",),
        "Silakan menuju petugas",
        "Please go to the officer",
        checkin_id=checkin_id,
    )


def ticket(t: Ticket, *, printed: bool) -> Screen:
    body_id = [f"Layanan {t.service}: {SERVICE_NAMES[t.service][0]}"]
    body_en = [f"Service {t.service}: {SERVICE_NAMES[t.service][1]}"]
    if t.people_ahead is not None:
        body_id.append(f"Antrean di depan Anda: {t.people_ahead}")
        body_en.append(f"People ahead of you: {t.people_ahead}")
    body_id.extend(t.notes)
    if t.wait_outside:
        body_id.append(FULL_ID)
        body_en.append(FULL_EN)
    if printed:
        next_id, next_en = "Ambil tiket Anda di bawah layar", "Take your ticket below the screen"
    else:
        body_id.append("Printer tiket sedang bermasalah.")
        body_en.append("The ticket printer is not working.")
        next_id = "Foto atau catat nomor ini, lalu tunjukkan kepada petugas"
        next_en = "Photograph or note this number and show it to an officer"
    return Screen(
        Phase.TICKET,
        "Nomor antrean Anda",
        "Your queue number",
        tuple(body_id),
        tuple(body_en),
        next_id,
        next_en,
        big_text=t.number,
        wait_outside=t.wait_outside,
        printed=printed,
        checkin_id=t.checkin_id,
    )


def out_of_service(reason_id: str, reason_en: str) -> Screen:
    return Screen(
        Phase.OUT_OF_SERVICE,
        "Kios sedang tidak dapat melayani",
        "This kiosk is out of service",
        (reason_id,),
        (reason_en,),
        "Silakan menghubungi petugas di pintu masuk",
        "Please see the officer at the entrance",
    )


def referral_slip_lines() -> list[str]:
    """The printed referral slip (no name, no temperature: it may be seen by others)."""
    return [
        "BPJAMSOSTEK - Lapak Asik",
        "PETUNJUK / NEXT STEPS",
        *REFERRAL_STEPS_ID,
        "Semoga lekas sehat.",
        "",
        *REFERRAL_STEPS_EN,
        "Get well soon.",
    ]
