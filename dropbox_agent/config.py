"""The dropbox agent's configuration: one TOML file, checked whole before start-up."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator

import receipts.config
from configkit import ConfigModel, PeriodOrOff, TimeZoneName
from dropbox_agent.domain.auth import Officer, check_hash_format
from dropbox_agent.domain.model import Input, MachineSettings
from uplink.branches import known_branch
from uplink.config import UplinkConfig
from uplink.topics import check_id

Level = Literal["high", "low"]
BCM_PINS = range(2, 28)


class PinsConfig(ConfigModel):
    """BCM GPIO numbers (2-27). Every input uses the Pi's internal pull-up; see
    firmware_config/dropbox/wiring.md."""

    beam: int = Field(description="Slot break-beam receiver output (open collector).")
    door: int = Field(description="Collection-door reed switch.")
    tamper: int = Field(description="Tamper loop (normally closed microswitch / tilt switch).")
    ready_led: int = Field(description="Green 'SIAP / READY' LED.")
    buzzer: int = Field(description="Active buzzer (driven through a transistor).")
    full_led: int | None = Field(None, description="Red 'PENUH / FULL' sign LED.")
    alarm_led: int | None = Field(None, description="Amber alarm LED.")
    key_switch: int | None = Field(None, description="Officer key switch (optional).")
    uv_relay: int | None = Field(None, description="UV-C lamp relay (needed when uv.enabled).")
    fill_trigger: int | None = Field(None, description="HC-SR04 trigger (fill sensor).")
    fill_echo: int | None = Field(
        None, description="HC-SR04 echo, through a 5 V to 3.3 V divider (fill sensor)."
    )

    @model_validator(mode="after")
    def _valid_and_unique(self) -> Self:
        used: dict[int, list[str]] = defaultdict(list)
        for name, pin in self.model_dump().items():
            if pin is None:
                continue
            if pin not in BCM_PINS:
                raise ValueError(f"pins.{name} = {pin}: use a BCM GPIO number from 2 to 27")
            used[pin].append(name)
        clashes = [
            f"GPIO{pin} is used by {' and '.join(n)}" for pin, n in used.items() if len(n) > 1
        ]
        if clashes:
            raise ValueError("; ".join(clashes) + ": give each function its own pin")
        if (self.fill_trigger is None) != (self.fill_echo is None):
            raise ValueError("set both pins.fill_trigger and pins.fill_echo, or neither")
        return self


class PolarityConfig(ConfigModel):
    """Which electrical level means 'active' on each input (fail-safe defaults: a cut wire reads
    as blocked / open / tampered)."""

    beam_blocked_level: Level = Field("high", description="Level when the beam is blocked.")
    door_open_level: Level = Field("high", description="Level when the door is open.")
    tamper_active_level: Level = Field("high", description="Level when the tamper loop is open.")
    key_on_level: Level = Field("low", description="Level when the key switch is turned on.")
    uv_relay_active_high: bool = Field(
        True, description="The relay board switches on with a high output (false: active low)."
    )


class TimingsConfig(ConfigModel):
    """Debounce times and timeouts."""

    beam_debounce_ms: float = Field(
        5.0, ge=0, le=200, description="Beam level must hold this long to count, ms."
    )
    door_debounce_ms: float = Field(30.0, ge=0, le=1000, description="Reed switch debounce, ms.")
    tamper_debounce_ms: float = Field(50.0, ge=0, le=1000, description="Tamper debounce, ms.")
    key_debounce_ms: float = Field(50.0, ge=0, le=1000, description="Key switch debounce, ms.")
    jam_after_s: float = Field(8.0, gt=0, description="Beam blocked this long is a jam, seconds.")
    authorization_window_s: float = Field(
        120.0, gt=0, description="After a PIN or badge, the door may be opened within this, s."
    )
    count_confirm_timeout_s: float = Field(
        900.0, gt=0, description="Alert when a collection's count is not confirmed by then, s."
    )
    alarm_buzzer_s: float = Field(30.0, ge=0, description="Buzzer time per alarm, seconds.")
    booking_link_window_s: float = Field(
        120.0, gt=0, description="A scanned booking links to a deposit made within this, s."
    )
    heartbeat_interval_s: PeriodOrOff = Field(
        300.0, ge=0, description="dropbox.heartbeat period, seconds (at least 0.1); 0 disables."
    )
    max_pin_failures: int = Field(
        5, ge=1, description="Wrong PINs/badges in a row before a lockout alarm."
    )
    pin_lockout_s: float = Field(300.0, gt=0, description="Lockout after too many, seconds.")


class FillConfig(ConfigModel):
    """The optional ultrasonic fill-level sensor, mounted in the lid looking down."""

    enabled: bool = Field(False, description="A fill sensor is fitted (needs pins.fill_*).")
    empty_distance_cm: float = Field(60.0, gt=0, description="Reading of the empty box, cm.")
    full_distance_cm: float = Field(8.0, gt=0, description="Reading of a full box, cm.")
    nearly_full_percent: int = Field(80, ge=1, le=100, description="'Nearly full' from here, %.")
    full_percent: int = Field(95, ge=1, le=100, description="'Full' from here, %.")
    hysteresis_percent: int = Field(5, ge=0, le=50, description="Drop needed to clear a level, %.")
    sample_interval_s: float = Field(60.0, ge=1, description="Time between readings, seconds.")
    failures_for_fault: int = Field(
        3, ge=1, description="Readings without echo in a row before a fault is reported."
    )

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.full_distance_cm >= self.empty_distance_cm:
            raise ValueError("full_distance_cm must be smaller than empty_distance_cm")
        if self.nearly_full_percent > self.full_percent:
            raise ValueError("nearly_full_percent must not exceed full_percent")
        return self


class UvConfig(ConfigModel):
    """The optional UV-C disinfection lamp (always off while the door is open)."""

    enabled: bool = Field(False, description="A UV-C lamp relay is fitted (needs pins.uv_relay).")
    cycle_s: float = Field(600.0, gt=0, description="Length of one disinfection cycle, seconds.")
    start_delay_s: float = Field(
        30.0, ge=0, description="Wait after the door closes before the lamp starts, seconds."
    )
    schedule_interval_s: PeriodOrOff = Field(
        0.0,
        ge=0,
        description="Also run a cycle this often, seconds (at least 0.1); 0: only after "
        "collections.",
    )


class PrinterConfig(receipts.config.PrinterConfig):
    """The optional ESC/POS receipt printer at the box: the shared ``[printer]`` table.

    The keys of earlier versions still load: ``connection`` is ``transport``, ``device_path``
    and ``host``/``port`` are ``target``, ``timeout_s`` is ``print_timeout_s``.
    """

    enabled: bool = Field(False, description="Print a slip for each deposit.")
    transport: receipts.config.Transport = Field("file", description="How the printer is reached.")
    target: str = Field(
        "/dev/usb/lp0",
        description="usb: 'vendor:product' hex (e.g. '04b8:0e15'); serial: '/dev/ttyUSB0@19200'; "
        "network: 'host:9100'; file: '/dev/usb/lp0'; simulated: ignored.",
    )

    def in_use(self) -> bool:
        return self.enabled

    @model_validator(mode="before")
    @classmethod
    def _earlier_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not _OLD_PRINTER_KEYS & data.keys():
            return data
        data = dict(data)
        connection = data.pop("connection", None)
        device_path = data.pop("device_path", None)
        host, port = data.pop("host", None), data.pop("port", None)
        timeout = data.pop("timeout_s", None)
        if connection is not None:
            data.setdefault("transport", connection)
        if data.get("transport", "file") == "network":
            data.setdefault("target", f"{host}:{port or 9100}" if host else "")
        elif device_path is not None:
            data.setdefault("target", str(device_path))
        if timeout is not None:
            data.setdefault("print_timeout_s", timeout)
        return data


_OLD_PRINTER_KEYS = {"connection", "device_path", "host", "port", "timeout_s"}


class OfficerConfig(ConfigModel):
    """An officer allowed to collect; secrets are stored only as hashes."""

    officer_id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9._-]{0,39}$",
        description="Staff id (not a name): goes into events.",
    )
    pin_hash: str | None = Field(None, description="Hash of the PIN (dropbox-agent hash-secret).")
    badge_hash: str | None = Field(
        None, description="Hash of the badge QR text (dropbox-agent hash-secret)."
    )

    @field_validator("pin_hash", "badge_hash")
    @classmethod
    def _hash(cls, value: str | None) -> str | None:
        return None if value is None else check_hash_format(value)


class CollectionConfig(ConfigModel):
    """Who may open the collection door, and how the box reads credentials."""

    officers: list[OfficerConfig] = Field(
        default_factory=list, description="Officers with a PIN and/or badge."
    )
    key_officer_id: str = Field(
        "pemegang-kunci",
        pattern=r"^[a-z0-9][a-z0-9._-]{0,39}$",
        description="Officer id recorded when the key switch authorizes an opening.",
    )
    input_path: Path | None = Field(
        None,
        description="Line device of the keypad / code scanner (e.g. /dev/ttyACM0, serial mode).",
    )
    booking_ref_pattern: str = Field(
        r"^BK-[A-Z0-9]{4,32}$",
        description="A scanned line matching this regex is a booking code linked to the deposit.",
    )

    @field_validator("booking_ref_pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _unique_officers(self) -> Self:
        ids = [o.officer_id for o in self.officers]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"officer_id listed twice: {', '.join(duplicates)}")
        return self

    def officer_list(self) -> list[Officer]:
        return [Officer(o.officer_id, o.pin_hash, o.badge_hash) for o in self.officers]


class DropboxConfig(ConfigModel):
    """Everything `dropbox-agent` needs."""

    uplink: UplinkConfig
    box_id: str = Field(description="This box's id (a-z, 0-9, '-'): on slips and in events.")
    branch: str = Field(
        description="Branch id: one of uplink/branches.toml (the city, then the office, e.g. "
        "jakarta-salemba)."
    )
    timezone: TimeZoneName = Field("Asia/Jakarta", description="Local time zone for printed slips.")
    local_db_path: Path = Field(
        description="The box store: SQLite file for the box's counters and raw input log "
        "(persistent partition; the held-events journal is kept beside it as <file>.held)."
    )
    raw_log_max_rows: int = Field(
        200_000, ge=1000, description="Rolling raw input log size, rows (oldest dropped)."
    )
    pins: PinsConfig
    polarity: PolarityConfig = PolarityConfig()
    timings: TimingsConfig = TimingsConfig()
    fill: FillConfig = FillConfig()
    uv: UvConfig = UvConfig()
    printer: PrinterConfig = PrinterConfig()
    collection: CollectionConfig = CollectionConfig()

    @field_validator("box_id", "branch")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        return check_id(value, "id")

    @field_validator("branch")
    @classmethod
    def _known_branch(cls, value: str) -> str:
        # The back office knows only the table's branches (provisioning refuses others too).
        known_branch(value)
        return value

    @model_validator(mode="after")
    def _hardware_present(self) -> Self:
        if self.fill.enabled and self.pins.fill_trigger is None:
            raise ValueError("fill.enabled = true needs pins.fill_trigger and pins.fill_echo")
        if self.uv.enabled and self.pins.uv_relay is None:
            raise ValueError("uv.enabled = true needs pins.uv_relay")
        if not self.collection.officers and self.pins.key_switch is None:
            raise ValueError(
                "nobody can collect: add [[collection.officers]] or set pins.key_switch"
            )
        return self

    def machine_settings(self) -> MachineSettings:
        """The state machine's view of this config."""
        t = self.timings
        return MachineSettings(
            box_id=self.box_id,
            debounce_s={
                Input.BEAM: t.beam_debounce_ms / 1000,
                Input.DOOR: t.door_debounce_ms / 1000,
                Input.TAMPER: t.tamper_debounce_ms / 1000,
                Input.KEY: t.key_debounce_ms / 1000,
            },
            jam_after_s=t.jam_after_s,
            authorization_window_s=t.authorization_window_s,
            count_confirm_timeout_s=t.count_confirm_timeout_s,
            alarm_buzzer_s=t.alarm_buzzer_s,
            booking_link_window_s=t.booking_link_window_s,
            heartbeat_interval_s=t.heartbeat_interval_s,
            max_auth_failures=t.max_pin_failures,
            auth_lockout_s=t.pin_lockout_s,
            key_officer_id=self.collection.key_officer_id,
            has_key_switch=self.pins.key_switch is not None,
            has_printer=self.printer.enabled,
            fill_enabled=self.fill.enabled,
            empty_distance_cm=self.fill.empty_distance_cm,
            full_distance_cm=self.fill.full_distance_cm,
            nearly_full_percent=self.fill.nearly_full_percent,
            full_percent=self.fill.full_percent,
            fill_hysteresis_percent=self.fill.hysteresis_percent,
            fill_failures_for_fault=self.fill.failures_for_fault,
            uv_enabled=self.uv.enabled,
            uv_cycle_s=self.uv.cycle_s,
            uv_start_delay_s=self.uv.start_delay_s,
            uv_schedule_interval_s=self.uv.schedule_interval_s,
        )
