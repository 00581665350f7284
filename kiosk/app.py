"""Wiring: the kiosk built from its config (devices from `kiosk.devices`) and its loop started."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from kiosk.adapters.qr import LiveDecoder, QrDecoder
from kiosk.booking import CheckinLedger, build_verifier, open_cache
from kiosk.booking.clockwatch import ClockWatch
from kiosk.booking.ledger import Duplicate
from kiosk.config import KioskConfig
from kiosk.devices import build_camera, build_printer, build_thermometer
from kiosk.domain import events as vocabulary
from kiosk.domain.capacity import OccupancyView
from kiosk.domain.scanning import is_booking_token
from kiosk.domain.temperature import TemperaturePolicy
from kiosk.engine import CheckinEngine, EngineSettings, VerifyTypedCode
from kiosk.errors import SetupError
from kiosk.ports import FrameSource, Thermometer, TicketPrinter, Verifier
from kiosk.runtime import Kiosk, startup_waits
from kiosk.store import TicketBook
from uplink import Clock, EventSink, SystemClock, Uplink, UplinkError


def policy_from(config: KioskConfig) -> TemperaturePolicy:
    th = config.thermometer
    return TemperaturePolicy(
        threshold_c=th.threshold_c,
        forehead_offset_c=th.forehead_offset_c,
        stable_samples=th.stable_samples,
        stable_span_c=th.stable_span_c,
        sample_interval_s=th.sample_interval_s,
        presence_min_c=th.presence_min_c,
        plausible_max_c=th.plausible_max_c,
        attempt_timeout_s=th.attempt_timeout_s,
        retry_rest_s=th.retry_rest_s,
    )


def settings_from(config: KioskConfig) -> EngineSettings:
    """The engine's settings from the whole config."""
    letters = config.tickets.class_letters
    return EngineSettings(
        kiosk_id=config.booking.kiosk_id,
        branch=config.booking.branch,
        branch_name=config.tickets.branch_name,
        zone=config.booking.zone,
        kiosk_code=config.tickets.kiosk_code,
        class_letters={
            "online": letters.online,
            "collective": letters.collective,
            "walkin": letters.walkin,
        },
        track_url=config.tickets.track_url,
        columns=config.printer.columns,
        policy=policy_from(config),
        on_unavailable=config.thermometer.on_unavailable,
        store_readings=config.privacy.store_temperature_readings,
        link_temperature=config.privacy.link_temperature_to_booking,
        referral_slip=config.printer.referral_slip,
        ticket_screen_s=config.flow.ticket_screen_s,
        message_screen_s=config.flow.message_screen_s,
        choice_timeout_s=config.flow.choice_timeout_s,
        repeat_ignore_s=config.camera.repeat_ignore_s,
        people_ahead_window_min=config.tickets.people_ahead_window_min,
    )


def build_engine(
    config: KioskConfig,
    *,
    clock: Clock,
    thermometer: Thermometer,
    printer: TicketPrinter,
    events: EventSink,
    ledger: CheckinLedger,
    book: TicketBook,
    verifier: Verifier | None = None,
    lookup: VerifyTypedCode | None = None,
    refresh: VerifyTypedCode | None = None,
    data_age: Callable[[], tuple[str, str]] | None = None,
    background: Callable[[Callable[[], None]], None] | None = None,
) -> CheckinEngine:
    """The check-in engine over the given devices, with the config's verifier.

    `background` runs the engine's slow work (online code lookup, trust-list refresh) off its
    thread; by default a daemon thread per job (a test passes ``jobs.append`` to run them itself).
    """
    if verifier is None:
        verifier = build_verifier(config.booking, ledger=ledger, cache=open_cache(config.booking))
    return CheckinEngine(
        settings_from(config),
        verifier=verifier,
        ledger=ledger,
        thermometer=thermometer,
        printer=printer,
        events=events,
        book=book,
        clock=clock,
        occupancy=OccupancyView(config.capacity.max_age_s),
        lookup=lookup,
        refresh=refresh,
        data_age=data_age,
        background=background,
    )


def build_qr_decoder(config: KioskConfig) -> QrDecoder:
    """The QR decoder with the config's time budget, looking for booking tokens (a still photo
    is decoded with it as it is; the camera loop wraps it, `build_decoder`)."""
    return QrDecoder(budget_ms=config.camera.scan_budget_ms, wanted=is_booking_token)


def build_decoder(config: KioskConfig) -> LiveDecoder:
    """The camera loop's QR decoder: every code in a frame, searching on until a booking."""
    return LiveDecoder(build_qr_decoder(config), fallback_every=config.camera.live_fallback_every)


def build(
    config: KioskConfig,
    *,
    clock: Clock | None = None,
    camera: FrameSource | None = None,
    thermometer: Thermometer | None = None,
    printer: TicketPrinter | None = None,
    uplink: Uplink | None = None,
    events: EventSink | None = None,
    online: bool = True,
) -> Kiosk:
    """Wire a kiosk from its config; any device may be passed in instead (simulation, tests).

    `online=False` leaves out the booking sync and typed-code lookup (no HTTP).

    Raises:
        SetupError: the uplink's certificates or key cannot be read (e.g. removed after the
            config was checked) or do not match.
    """
    clock = clock or SystemClock()
    if uplink is None:
        try:
            uplink = Uplink(config.uplink, clock=clock)
        except UplinkError:
            raise  # the outbox's StorageError already says its file and the fix
        except OSError as exc:  # ssl.SSLError included: a key that does not match, a bad PEM
            raise _uplink_setup_error(config, exc) from exc
    ledger = CheckinLedger(config.booking.ledger_path)
    cache = open_cache(config.booking)
    verifier = build_verifier(config.booking, ledger=ledger, cache=cache, clock=clock)
    lookup = refresh = None  # the typed-code lookup and the re-check of a new key: online only
    background: list[Callable[[threading.Event], None]] = []
    state_extra: list[Callable[[], dict[str, Any]]] = []
    data_age: Callable[[], tuple[str, str]] | None = None
    # An untrusted clock is said in the state message and recorded as a fault on each change.
    state_extra.append(ClockWatch(clock, (events or uplink).record).state)
    if online and config.booking.api_base_url:
        # requests is loaded only here, for the sync and the typed-code lookup.
        from kiosk.booking.factory import online_checks
        from kiosk.booking.sync import BookingSync, bad_document_fault, describe_age

        def on_duplicate(duplicate: Duplicate) -> None:
            # The ledger's Duplicate has exactly the event's fields (both are named the same).
            uplink.record(vocabulary.DUPLICATE, vocabulary.duplicate(**asdict(duplicate)))

        sync = BookingSync(config.booking, cache, ledger, clock=clock, on_duplicate=on_duplicate,
                           on_bad_document=bad_document_fault(uplink.record))  # fmt: skip
        lookup, refresh = online_checks(config.booking, verifier, cache, clock)
        background.append(sync.run)
        state_extra.append(sync.state)

        def data_age() -> tuple[str, str]:  # shown on the welcome screen
            return describe_age(cache.cache_age_s(clock.now()))

    book = TicketBook(config.tickets.book_path)
    for component, opened in (("ledger", ledger), ("tickets", book)):
        if opened.moved_aside is not None:  # loud, and the kiosk keeps serving
            (events or uplink).record(
                "device.fault",
                {
                    "component": component,
                    "code": "replaced_unusable",
                    "active": True,
                    "detail": f"{opened.problem}; moved aside to {opened.moved_aside.name}",
                },
            )
    engine = build_engine(
        config,
        clock=clock,
        thermometer=thermometer or build_thermometer(config),
        printer=(printer := printer or build_printer(config)),
        events=events or uplink,
        ledger=ledger,
        book=book,
        verifier=verifier,
        lookup=lookup,
        refresh=refresh,
        data_age=data_age,
    )
    return Kiosk(
        config,
        engine,
        camera or build_camera(config),
        uplink,
        clock,
        book,
        ledger,
        decoder=build_decoder(config),
        background=background,
        state_extra=state_extra,
        startup_waits=startup_waits(config, printer, cache),
    )


def _uplink_setup_error(config: KioskConfig, exc: OSError) -> SetupError:
    """The TLS file at fault, as `config check` names it (ssl's errors do not say which)."""
    for key, value, problem, severity in config.uplink.broker.file_problems():
        if severity == "error":
            return SetupError(f"cannot set up the uplink: uplink.broker.{key} = {value}: {problem}")
    return SetupError(
        f"cannot set up the uplink ({exc}); check [uplink.broker] ca_file, cert_file and"
        " key_file (`provision` writes them)"
    )


def run(config: KioskConfig, stop: threading.Event) -> None:
    """`kiosk run`: the appliance, headless until the touchscreen UI attaches to the engine."""
    build(config).run(stop)
