"""What goes into and comes out of the box's state machine; all times are monotonic seconds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

AuthMethod = Literal["pin", "badge", "key"]
CountSource = Literal["keypad", "backoffice", "simulation"]


class Input(StrEnum):
    """The box's digital inputs, named by meaning (active = blocked / open / tampered / on)."""

    BEAM = "beam"
    DOOR = "door"
    TAMPER = "tamper"
    KEY = "key"


class Output(StrEnum):
    """The box's outputs."""

    READY_LED = "ready_led"
    FULL_LED = "full_led"
    ALARM_LED = "alarm_led"
    BUZZER = "buzzer"
    UV_RELAY = "uv_relay"


class OutputMode(StrEnum):
    OFF = "off"
    ON = "on"
    BLINK = "blink"


# -- inputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edge:
    """A raw level change of one input at monotonic time `t`."""

    t: float
    input: Input
    active: bool


@dataclass(frozen=True)
class Authorization:
    """A credential was checked: `officer_id` is None when it was refused."""

    t: float
    method: AuthMethod
    officer_id: str | None


@dataclass(frozen=True)
class CountEntered:
    """The officer's physical count of the documents taken out.

    `collection_id` names the collection it is for (counts sent from the back office); a count
    for another collection than the open one is ignored. None: the open one (keypad).
    """

    t: float
    counted: int
    source: CountSource
    collection_id: str | None = None


@dataclass(frozen=True)
class FillReading:
    """One fill-sensor reading: distance from the sensor to the paper, or None (no echo)."""

    t: float
    distance_cm: float | None


@dataclass(frozen=True)
class BookingScanned:
    """A participant scanned a booking code at the box: it links to the next deposit."""

    t: float
    ref: str


@dataclass(frozen=True)
class FaultReport:
    """An adapter's fault began or cleared (printer paper out, storage full...)."""

    t: float
    component: str
    code: str
    active: bool


MachineInput = Edge | Authorization | CountEntered | FillReading | BookingScanned | FaultReport


# -- effects --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """Record an event durably (the app does this before any other effect of the same step)."""

    type: str
    payload: Mapping[str, Any]
    t: float


@dataclass(frozen=True)
class SetOutput:
    output: Output
    mode: OutputMode


@dataclass(frozen=True)
class Pulse:
    """A short feedback pulse (a beep) on an output, then back to its mode."""

    output: Output
    seconds: float


@dataclass(frozen=True)
class PrintReceipt:
    """Print a deposit slip (when a printer is configured)."""

    deposit_no: int
    code: str
    t: float
    booking_ref: str | None
    box_full: bool


@dataclass(frozen=True)
class SaveCounters:
    """Persist the counters that must survive a restart."""

    counters: BoxCounters


@dataclass(frozen=True)
class Notice:
    """Something the app should log (no personal data)."""

    text: str


Effect = Record | SetOutput | Pulse | PrintReceipt | SaveCounters | Notice


# -- persistent state -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenCollection:
    """A collection whose physical count is not settled yet."""

    collection_id: str
    officer_id: str
    method: AuthMethod
    expected: int
    counted: int | None = None


@dataclass(frozen=True)
class BoxCounters:
    """The box's counters, persisted after every change (see `adapters.box_store`)."""

    last_deposit_no: int = 0
    pending_count: int = 0
    pending_first_no: int | None = None
    collection_no: int = 0
    open_collection: OpenCollection | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BoxCounters:
        raw = dict(data)
        open_collection = raw.pop("open_collection", None)
        return cls(
            **raw,
            open_collection=OpenCollection(**open_collection) if open_collection else None,
        )


# -- settings -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MachineSettings:
    """The machine's tunables, built from the app's config (`DropboxConfig.machine_settings()`)."""

    box_id: str
    debounce_s: Mapping[Input, float] = field(
        default_factory=lambda: {
            Input.BEAM: 0.005,
            Input.DOOR: 0.03,
            Input.TAMPER: 0.05,
            Input.KEY: 0.05,
        }
    )
    jam_after_s: float = 8.0
    authorization_window_s: float = 120.0
    count_confirm_timeout_s: float = 900.0
    alarm_buzzer_s: float = 30.0
    booking_link_window_s: float = 120.0
    heartbeat_interval_s: float = 300.0
    max_auth_failures: int = 5
    auth_lockout_s: float = 300.0
    key_officer_id: str = "pemegang-kunci"
    has_key_switch: bool = False
    has_printer: bool = False
    fill_enabled: bool = False
    empty_distance_cm: float = 60.0
    full_distance_cm: float = 8.0
    nearly_full_percent: int = 80
    full_percent: int = 95
    fill_hysteresis_percent: int = 5
    fill_failures_for_fault: int = 3
    uv_enabled: bool = False
    uv_cycle_s: float = 600.0
    uv_start_delay_s: float = 30.0
    uv_schedule_interval_s: float = 0.0
    beep_s: float = 0.12
    raw_log_size: int = 10_000
