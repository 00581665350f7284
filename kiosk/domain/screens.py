"""What the kiosk shows: one observable `Screen` of texts and structured facts, drawn by a UI.

How a UI consumes it
--------------------
``unsubscribe = engine.subscribe(listener)`` calls ``listener(screen)`` at once with the current
screen, then on every change (on the engine's thread: hand the value to the UI thread, e.g. with
Kivy's ``Clock.schedule_once``). A `Screen` is a frozen value: draw it, never parse its texts.
Every participant-facing text is a `Bilingual` (``text.in_("id")`` / ``text.in_("en")``):
``title``, ``body`` lines, ``next_step`` and option labels. The UI sends choices back through
the engine's intents (``scan``, ``enter_code``, ``start_walkin``, ``choose_service(code)``,
``cancel``). Finished check-ins are announced separately (``engine.on_finished``).

Facts every screen carries: ``phase``; ``deadline`` (monotonic seconds on the engine's clock
when the screen ends by itself, for a countdown; None when it waits for the participant or for
a device); ``checkin_id`` (the check-in in progress or just finished, "" on the welcome screen);
``wait_outside`` (the office is full: show the banner).

The phases and the facts each adds:

=================  ============================================================================
IDLE               welcome: show a QR or press NO BOOKING; ``body`` says whether the office is
                   full, the printer is out of paper and how old the booking data is.
CHECKING           a typed booking code is being looked up online (no deadline).
CHOOSE_SERVICE     walk-in: ``options`` are (code, label) pairs, one per programme; deadline.
MEASURING          temperature: ``attempt`` (1, or 2 after a rest), ``present`` (a forehead is
                   in front of the sensor), ``deadline`` (the attempt times out), ``party``
                   (a collective booking: the company and the party size).
RESTING            above the threshold once: ``attempt`` (1), ``deadline`` (end of the rest).
PRINTING           the ticket is printing now: ``number`` and ``ticket`` (delivery "printing").
TICKET             ``number`` (draw it very large) and ``ticket``: service, people ahead, printed
                   or on screen only, wait outside; deadline.
REFUSED            ``reason`` (a `kiosk.booking.REASONS` code, ``already_checked_in`` or
                   ``temperature_unavailable``: pick an icon by it); ``number`` when this kiosk
                   already gave the booking one; deadline.
REFERRED           ``reason`` "temperature": no ticket; the next steps are in ``body``; deadline.
OUT_OF_SERVICE     ``reason`` (e.g. "storage"): nobody can be checked in; no deadline.
=================  ============================================================================

Texts live here once, for screen and slip alike.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Literal, NamedTuple

from kiosk.bilingual import Bilingual, Lang
from kiosk.booking import Service, Verdict
from kiosk.domain.temperature import GateResult
from kiosk.domain.tickets import SERVICE_NAMES, Ticket
from uplink.booking.model import SERVICES

__all__ = [
    "FULL",
    "REFERRAL_STEPS",
    "STAFF_CHECK_NOTE",
    "Bilingual",
    "Delivery",
    "Lang",
    "Option",
    "Party",
    "Phase",
    "Screen",
    "TicketFacts",
]

REFERRAL_STEPS: tuple[Bilingual, ...] = (
    Bilingual(
        "Silakan pulang dan beristirahat; klaim tetap bisa diajukan tanpa datang ke kantor:",
        "Please go home and rest; you can still claim without coming in:",
    ),
    Bilingual(
        "1. Ajukan klaim online di lapakasik.bpjsketenagakerjaan.go.id atau aplikasi JMO.",
        "1. Claim online at lapakasik.bpjsketenagakerjaan.go.id or in the JMO app.",
    ),
    Bilingual(
        "2. Atau masukkan berkas Anda ke dropbox di depan kantor.",
        "2. Or put your documents in the dropbox in front of the office.",
    ),
    Bilingual(
        "3. Pertanyaan: hubungi Layanan Masyarakat 175.",
        "3. Questions: call the public service line 175.",
    ),
)
FULL = Bilingual(
    "Ruangan sedang penuh. Mohon menunggu di luar sampai nomor Anda dipanggil.",
    "The office is full. Please wait outside until your number is called.",
)
STAFF_CHECK_NOTE = Bilingual(
    "Suhu Anda akan diukur oleh petugas.", "An officer will take your temperature."
)
"""On a ticket issued although the sensor gave no reading (``on_unavailable = "staff_check"``)."""

GET_WELL = Bilingual("Semoga lekas sehat.", "Get well soon.")
STORAGE_BROKEN = Bilingual(
    "Penyimpanan kios penuh atau rusak.", "The kiosk's storage is full or broken."
)


class Phase(StrEnum):
    """Where a check-in stands. IDLE is the welcome screen with the camera scanning."""

    IDLE = "idle"
    CHOOSE_SERVICE = "choose_service"  # walk-in: pick a programme
    MEASURING = "measuring"  # temperature: hold your forehead in front of the sensor
    RESTING = "resting"  # above the threshold once: rest, then measure again
    PRINTING = "printing"  # the ticket is being printed
    REFUSED = "refused"  # booking not accepted (reason + next step)
    REFERRED = "referred"  # temperature too high twice: no ticket, what to do instead
    TICKET = "ticket"  # the number, printed or shown on screen only
    CHECKING = "checking"  # a typed booking code is being looked up online
    OUT_OF_SERVICE = "out_of_service"  # cannot check anyone in (e.g. outbox full)


class Option(NamedTuple):
    """One choice the UI offers: send `code` back (e.g. ``engine.choose_service(code)``)."""

    code: str
    label: Bilingual


Delivery = Literal["printing", "printed", "screen_only"]


class Party(NamedTuple):
    """A collective booking being checked in: who booked (as the booking names them, masked)
    and how many people it covers, shown while the group's representative is measured."""

    name: str
    size: int


@dataclass(frozen=True)
class TicketFacts:
    """The queue ticket as data, for the PRINTING and TICKET screens.

    Attributes:
        number: the queue number, e.g. ``JHT A1-007``.
        service: the programme code (JHT, JKK, JKM, JP).
        service_name: the programme's name.
        people_ahead: people ahead in this service's queue; None when unknown.
        delivery: "printing" now, then "printed" or "screen_only" (no paper, printer fault:
            the participant must note the number).
        wait_outside: the office is full: wait outside until called.
        notes: extra lines, e.g. `STAFF_CHECK_NOTE`.
        track_ref: the code that tracks the claim (`kiosk.domain.tickets.tracking_code`): the
            printed ticket carries it under its QR; on screen only, the participant writes it
            down with the number.
    """

    number: str
    service: Service
    service_name: Bilingual
    people_ahead: int | None
    delivery: Delivery
    wait_outside: bool = False
    notes: tuple[Bilingual, ...] = ()
    track_ref: str = ""

    @property
    def printed(self) -> bool:
        """The ticket came out of the printer."""
        return self.delivery == "printed"


@dataclass(frozen=True, kw_only=True)
class Screen:
    """The kiosk's observable state (see the module docstring for what each phase carries).

    Attributes:
        phase: what the kiosk is doing.
        title: the headline.
        next_step: the participant's next step (every screen has one).
        body: explanation lines.
        reason: on REFUSED, REFERRED and OUT_OF_SERVICE: the reason code (for an icon).
        deadline: monotonic seconds (engine clock) when the screen ends by itself, else None.
        options: choices the UI offers (the programmes on CHOOSE_SERVICE).
        number: a queue number to draw very large ("" when none).
        ticket: on PRINTING and TICKET: the ticket as data.
        attempt: on MEASURING and RESTING: the measuring attempt (1 or 2).
        present: on MEASURING: a forehead is in front of the sensor.
        party: on MEASURING: the collective booking being checked in (company, party size).
        wait_outside: the office is full: show the "wait outside" banner.
        checkin_id: the check-in in progress or just finished, if any.
        clock_unsynced: the kiosk's clock is not synchronised, so it does not judge bookings'
            dates: staff check them (the touchscreen shows a small notice for staff).
    """

    phase: Phase
    title: Bilingual
    next_step: Bilingual
    body: tuple[Bilingual, ...] = ()
    reason: str = ""
    deadline: float | None = None
    options: tuple[Option, ...] = ()
    number: str = ""
    ticket: TicketFacts | None = None
    attempt: int = 0
    present: bool = False
    party: Party | None = None
    wait_outside: bool = False
    checkin_id: str = ""
    clock_unsynced: bool = False

    def lines(self, lang: Lang) -> tuple[str, ...]:
        """The body in one language."""
        return tuple(line.in_(lang) for line in self.body)

    def until(self, deadline: float | None) -> Screen:
        """The same screen ending by itself at `deadline` (monotonic seconds)."""
        return replace(self, deadline=deadline)


def service_name(service: Service) -> Bilingual:
    """A programme's name, e.g. "Jaminan Hari Tua" / "Old-age savings"."""
    return Bilingual(*SERVICE_NAMES[service])


def idle(*, full: bool, out_of_paper: bool = False, data_age: Bilingual | None = None) -> Screen:
    """The welcome screen; `data_age` says how old the booking data is."""
    body = [
        Bilingual(
            "Tunjukkan kode QR booking Anda ke kamera,", "Show your booking QR code to the camera,"
        ),
        Bilingual("atau tekan TANPA BOOKING.", "or press NO BOOKING."),
    ]
    if full:
        body.append(FULL)
    if out_of_paper:
        body.append(
            Bilingual(
                "Tiket tidak dapat dicetak; nomor antrean akan tampil di layar.",
                "Tickets cannot be printed; your number will show on screen.",
            )
        )
    if data_age is not None:
        body.append(data_age)
    return Screen(
        phase=Phase.IDLE,
        title=Bilingual("Selamat datang di Lapak Asik", "Welcome to Lapak Asik"),
        body=tuple(body),
        next_step=Bilingual(
            "Pindai QR atau pilih TANPA BOOKING", "Scan your QR or choose NO BOOKING"
        ),
        wait_outside=full,
    )


def choose_service(checkin_id: str) -> Screen:
    """Walk-in: one option per programme."""
    return Screen(
        phase=Phase.CHOOSE_SERVICE,
        title=Bilingual("Pilih layanan klaim", "Choose your claim"),
        body=tuple(
            Bilingual(f"{code}: {name.id}", f"{code}: {name.en}")
            for code, name in ((code, service_name(code)) for code in SERVICES)
        ),
        next_step=Bilingual("Sentuh layanan yang Anda butuhkan", "Touch the service you need"),
        options=tuple(Option(code, service_name(code)) for code in SERVICES),
        checkin_id=checkin_id,
    )


def checking_code() -> Screen:
    """A typed booking code is being looked up (a few seconds at most)."""
    return Screen(
        phase=Phase.CHECKING,
        title=Bilingual("Memeriksa kode booking Anda...", "Checking your booking code..."),
        body=(Bilingual("Mohon tunggu sebentar.", "Please wait a moment."),),
        next_step=Bilingual("Tunggu hasilnya di layar ini", "Wait for the result on this screen"),
    )


def measuring(
    checkin_id: str,
    *,
    present: bool,
    attempt: int,
    deadline: float | None = None,
    party: Party | None = None,
) -> Screen:
    """The temperature measurement; `deadline` is when this attempt times out; `party` when a
    collective booking is being checked in."""
    body = (
        (Bilingual("Pengukuran ulang setelah istirahat.", "Measuring again after the rest."),)
        if attempt > 1
        else ()
    )
    if present:
        title = Bilingual("Tahan sebentar, sedang mengukur suhu...", "Hold still, measuring...")
    else:
        title = Bilingual("Dekatkan dahi Anda ke sensor suhu", "Bring your forehead to the sensor")
    return Screen(
        phase=Phase.MEASURING,
        title=title,
        body=body,
        next_step=Bilingual(
            "Jarak 3-5 cm, lepaskan topi/poni dari dahi",
            "3-5 cm away, keep hair and caps off your forehead",
        ),
        deadline=deadline,
        attempt=attempt,
        present=present,
        party=party,
        checkin_id=checkin_id,
    )


def resting(checkin_id: str, *, attempt: int = 1, deadline: float | None = None) -> Screen:
    """Above the threshold once: rest until `deadline`, then measure again."""
    return Screen(
        phase=Phase.RESTING,
        title=Bilingual("Silakan duduk dan istirahat sebentar", "Please sit and rest for a moment"),
        body=(
            Bilingual(
                "Suhu Anda sedikit tinggi. Kami akan mengukur sekali lagi.",
                "Your temperature is a little high. We will measure once more.",
            ),
        ),
        next_step=Bilingual(
            "Tunggu sampai layar memanggil Anda kembali", "Wait until the screen calls you back"
        ),
        deadline=deadline,
        attempt=attempt,
        checkin_id=checkin_id,
    )


def referred(checkin_id: str, result: GateResult) -> Screen:
    """Too warm twice: no ticket, and what to do instead (the reading is not shown)."""
    return Screen(
        phase=Phase.REFERRED,
        title=Bilingual(
            "Mohon maaf, Anda belum dapat masuk hari ini", "Sorry, you cannot come in today"
        ),
        body=(
            Bilingual(
                f"Suhu tubuh Anda di atas batas (diukur {result.attempts} kali).",
                f"Your temperature is above the limit (measured {result.attempts} times).",
            ),
            *REFERRAL_STEPS,
        ),
        next_step=Bilingual(
            "Ambil slip petunjuk dan hubungi 175 bila perlu",
            "Take the instruction slip; call 175 if needed",
        ),
        reason="temperature",
        checkin_id=checkin_id,
    )


def refused(verdict: Verdict) -> Screen:
    """The booking was not accepted: the verifier's words and next step."""
    return Screen(
        phase=Phase.REFUSED,
        title=Bilingual("Booking tidak dapat digunakan", "This booking cannot be used"),
        body=(verdict.message,),
        next_step=verdict.next_step,
        reason=verdict.reason,
    )


def already_claimed(checkin_id: str, *, number: str = "") -> Screen:
    """The booking was checked in before; with `number`, this kiosk gave it that number."""
    body = [
        Bilingual(
            "Satu booking hanya untuk satu tiket antrean.", "One booking gives one queue ticket."
        )
    ]
    if number:
        body.insert(0, Bilingual(f"Nomor antrean Anda: {number}", f"Your queue number: {number}"))
    return Screen(
        phase=Phase.REFUSED,
        title=Bilingual(
            "Booking ini sudah dipakai untuk check-in",
            "This booking has already been checked in",
        ),
        body=tuple(body),
        next_step=Bilingual(
            "Tanyakan kepada petugas bila Anda belum menerima tiket",
            "Ask an officer if you did not get a ticket",
        ),
        reason="already_checked_in",
        number=number,
        checkin_id=checkin_id,
    )


def temperature_unavailable(checkin_id: str) -> Screen:
    """The sensor gave no usable reading and the config says an officer measures by hand."""
    return Screen(
        phase=Phase.REFUSED,
        title=Bilingual("Suhu Anda belum dapat diukur", "Your temperature could not be measured"),
        body=(
            Bilingual(
                "Petugas di pintu masuk akan mengukur suhu Anda.",
                "The officer at the entrance will take your temperature.",
            ),
        ),
        next_step=Bilingual("Silakan menuju petugas", "Please go to the officer"),
        reason="temperature_unavailable",
        checkin_id=checkin_id,
    )


def ticket_facts(t: Ticket, delivery: Delivery, notes: tuple[Bilingual, ...] = ()) -> TicketFacts:
    """What the screen shows of `t`."""
    return TicketFacts(
        number=t.number,
        service=t.service,
        service_name=service_name(t.service),
        people_ahead=t.people_ahead,
        delivery=delivery,
        wait_outside=t.wait_outside,
        notes=notes,
        track_ref=t.track_ref,
    )


def printing(t: Ticket, *, notes: tuple[Bilingual, ...] = ()) -> Screen:
    """The ticket is being printed (up to the printer's timeout)."""
    return Screen(
        phase=Phase.PRINTING,
        title=Bilingual("Tiket Anda sedang dicetak...", "Printing your ticket..."),
        body=(Bilingual(f"Nomor antrean Anda: {t.number}", f"Your queue number: {t.number}"),),
        next_step=Bilingual(
            "Tunggu tiket keluar di bawah layar", "Wait for your ticket below the screen"
        ),
        number=t.number,
        ticket=ticket_facts(t, "printing", notes),
        wait_outside=t.wait_outside,
        checkin_id=t.checkin_id,
    )


def ticket(t: Ticket, *, printed: bool, notes: tuple[Bilingual, ...] = ()) -> Screen:
    """The queue number, printed or (no paper, printer fault) on screen only."""
    name = service_name(t.service)
    body = [Bilingual(f"Layanan {t.service}: {name.id}", f"Service {t.service}: {name.en}")]
    if t.people_ahead is not None:
        body.append(
            Bilingual(
                f"Antrean di depan Anda: {t.people_ahead}",
                f"People ahead of you: {t.people_ahead}",
            )
        )
    body.extend(notes)
    if t.wait_outside:
        body.append(FULL)
    if printed:
        next_step = Bilingual(
            "Ambil tiket Anda di bawah layar", "Take your ticket below the screen"
        )
    else:
        body.append(
            Bilingual("Printer tiket sedang bermasalah.", "The ticket printer is not working.")
        )
        next_step = Bilingual(
            "Foto atau catat nomor ini, lalu tunjukkan kepada petugas",
            "Photograph or note this number and show it to an officer",
        )
    return Screen(
        phase=Phase.TICKET,
        title=Bilingual("Nomor antrean Anda", "Your queue number"),
        body=tuple(body),
        next_step=next_step,
        number=t.number,
        ticket=ticket_facts(t, "printed" if printed else "screen_only", notes),
        wait_outside=t.wait_outside,
        checkin_id=t.checkin_id,
    )


def out_of_service(reason: str, why: Bilingual) -> Screen:
    """Nobody can be checked in (`reason` is a code such as "storage"; `why` says it)."""
    return Screen(
        phase=Phase.OUT_OF_SERVICE,
        title=Bilingual("Kios sedang tidak dapat melayani", "This kiosk is out of service"),
        body=(why,),
        next_step=Bilingual(
            "Silakan menghubungi petugas di pintu masuk", "Please see the officer at the entrance"
        ),
        reason=reason,
    )


def referral_slip_lines() -> list[str]:
    """The printed referral slip (no name, no temperature: it may be seen by others)."""
    return [
        "BPJAMSOSTEK - Lapak Asik",
        "PETUNJUK / NEXT STEPS",
        *(step.id for step in REFERRAL_STEPS),
        GET_WELL.id,
        "",
        *(step.en for step in REFERRAL_STEPS),
        GET_WELL.en,
    ]
