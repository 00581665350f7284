"""The kiosk's configuration: one TOML file, checked whole by `kiosk config check FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

import receipts
from configkit import ConfigModel
from configkit.hashed import check_hash_format
from kiosk.booking import BookingConfig
from uplink import UplinkConfig


class CameraConfig(ConfigModel):
    """Where frames come from and how they are decoded."""

    source: Literal["picamera2", "usb", "folder"] = Field(
        "picamera2",
        description="picamera2 (Pi camera), usb (V4L2 via OpenCV) or folder (simulation: "
        "images appearing in `folder`).",
    )
    camera_num: int = Field(0, ge=0, le=7, description="picamera2 camera index.")
    device: str = Field("/dev/video0", description="V4L2 device of the USB camera.")
    folder: Path | None = Field(None, description="Folder of QR images (source = folder).")
    width_px: int = Field(640, ge=160, le=4056, description="Frame width, pixels.")
    height_px: int = Field(480, ge=120, le=3040, description="Frame height, pixels.")
    frame_timeout_s: float = Field(
        2.0, gt=0, le=60, description="No frame for this long means the camera hung: reopen it."
    )
    max_frame_age_s: float = Field(
        0.5, gt=0, le=10, description="Frames older than this are stale and never decoded."
    )
    live_fallback_every: int = Field(
        3,
        ge=1,
        le=100,
        description="On consecutive frames without a code, run one preprocessing fallback "
        "every this many frames.",
    )
    scan_budget_ms: float = Field(
        250.0, gt=0, le=10000, description="Time for fallbacks on one image in `kiosk scan`, ms."
    )
    repeat_ignore_s: float = Field(
        8.0, ge=0, le=600, description="The same QR text seen again within this time is ignored."
    )

    @model_validator(mode="after")
    def _folder_given(self) -> Self:
        if self.source == "folder" and self.folder is None:
            raise ValueError("camera.source = 'folder' needs camera.folder")
        return self


class ThermometerConfig(ConfigModel):
    """The temperature gate: sensor and policy."""

    source: Literal["mlx90614", "simulated"] = Field(
        "mlx90614", description="mlx90614 (I2C) or simulated."
    )
    i2c_bus: int = Field(1, ge=0, le=31, description="I2C bus number (/dev/i2c-N).")
    address: int = Field(0x5A, ge=0x03, le=0x77, description="MLX90614 7-bit I2C address.")
    threshold_c: float = Field(
        37.5,
        ge=36.0,
        le=39.0,
        description="Corrected temperature at or above this is too high, °C.",
    )
    forehead_offset_c: float = Field(
        0.0,
        ge=-2.0,
        le=4.0,
        description="Added to the forehead skin reading to estimate body temperature, °C "
        "(calibrate against a clinical thermometer at installation).",
    )
    stable_samples: int = Field(
        3, ge=1, le=20, description="Consecutive readings that must agree for a measurement."
    )
    stable_span_c: float = Field(
        0.3, gt=0, le=2.0, description="Largest spread among those readings, °C."
    )
    sample_interval_s: float = Field(0.1, ge=0, le=5, description="Time between readings, s.")
    presence_min_c: float = Field(
        30.0, ge=20.0, le=35.0, description="Object readings below this mean nobody is there, °C."
    )
    plausible_max_c: float = Field(
        43.0, ge=39.0, le=50.0, description="Readings above this are not a forehead, °C."
    )
    attempt_timeout_s: float = Field(
        8.0, gt=0, le=120, description="Give up an attempt without a stable reading after, s."
    )
    retry_rest_s: float = Field(
        20.0, ge=0, le=600, description="Rest before the second measurement after a high one, s."
    )
    on_unavailable: Literal["staff_check", "refuse"] = Field(
        "staff_check",
        description="Sensor broken or no stable reading: staff_check issues the ticket noting "
        "that an officer measures by hand; refuse sends the participant to the officer without "
        "a ticket.",
    )


class PrinterConfig(receipts.PrinterConfig):
    """The ticket printer (ESC/POS): the shared ``[printer]`` table plus the referral slip."""

    referral_slip: bool = Field(
        True, description="Print the next-steps slip for a participant referred by temperature."
    )


class ClassLetters(ConfigModel):
    """The letter of each priority class in ticket numbers."""

    online: str = Field("A", pattern=r"^[A-Z]$", description="Online bookings (served first).")
    collective: str = Field("B", pattern=r"^[A-Z]$", description="Collective (employer) bookings.")
    walkin: str = Field("C", pattern=r"^[A-Z]$", description="Walk-ins without a booking.")

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        letters = [self.online, self.collective, self.walkin]
        if len(set(letters)) != 3:
            raise ValueError(f"class letters must differ, got {letters}")
        return self


class TicketsConfig(ConfigModel):
    """Queue numbers and the ticket."""

    branch_name: str = Field(
        min_length=1, max_length=32, description="Branch name printed on tickets."
    )
    kiosk_code: str = Field(
        pattern=r"^[0-9A-Z]$",
        description="This kiosk's one-character code in ticket numbers; unique within the branch.",
    )
    class_letters: ClassLetters = Field(
        default_factory=lambda: ClassLetters(), description="Priority class letters."
    )
    book_path: Path = Field(description="SQLite file of the ticket counters and check-ins.")
    track_url: str = Field(
        "https://lapakasik.bpjsketenagakerjaan.go.id/lacak?ref={ref}",
        pattern=r"^https://\S+\{ref\}\S*$",
        description="URL in the tracking QR; {ref} becomes the booking id or check-in id.",
    )
    people_ahead_window_min: int = Field(
        60,
        ge=0,
        le=600,
        description="Without the branch's queue figures, count this kiosk's tickets of the last "
        "this many minutes as people ahead (0: leave the line out).",
    )


class FlowConfig(ConfigModel):
    """How long screens stay up."""

    ticket_screen_s: float = Field(15.0, gt=0, le=300, description="Ticket number screen, s.")
    message_screen_s: float = Field(
        12.0, gt=0, le=300, description="Refusal and referral screens, s."
    )
    choice_timeout_s: float = Field(
        30.0, gt=0, le=600, description="Walk-in service choice without a touch, s."
    )


class CapacityConfig(ConfigModel):
    """Occupancy published by the branch (retained MQTT)."""

    enabled: bool = Field(True, description="Subscribe to the branch's occupancy topic.")
    max_age_s: float = Field(
        600.0, gt=0, le=86400, description="Ignore occupancy reports older than this, s."
    )


class PrivacyConfig(ConfigModel):
    """What the kiosk records about temperature (the outcome only, by default)."""

    store_temperature_readings: bool = Field(
        False, description="Include the measured °C in temperature events."
    )
    link_temperature_to_booking: bool = Field(
        False,
        description="Include the booking id in temperature events (a health record tied to a "
        "person: only with a legal basis).",
    )


class SoundConfig(ConfigModel):
    """Cues and spoken prompts (generated by `kiosk voices`)."""

    enabled: bool = Field(True, description="Play sound cues (read, accepted, refused, too hot).")
    spoken: bool = Field(True, description="Also speak each screen's prompt (espeak-ng voices).")
    volume: float = Field(0.8, ge=0.0, le=1.0, description="Volume, 0 (silent) to 1.")
    voices_dir: Path = Field(
        Path("/var/lib/lapak/kiosk/voices"),
        description="Where `kiosk voices` writes the WAV files and the kiosk reads them.",
    )


class UiConfig(ConfigModel):
    """The touchscreen (Kivy): shown by `kiosk run` when enabled and a display exists."""

    enabled: bool = Field(
        False, description="Show the touchscreen; without a display the kiosk runs headless."
    )
    orientation: Literal["landscape", "portrait"] = Field(
        "landscape", description='landscape (the official 7" 800x480) or portrait (1080x1920).'
    )
    width_px: int = Field(800, ge=320, le=4096, description="Screen width as drawn, pixels.")
    height_px: int = Field(480, ge=240, le=4096, description="Screen height as drawn, pixels.")
    scale: float | None = Field(
        None,
        ge=0.5,
        le=4.0,
        description='Pixels per dp/sp on this panel (unset: by the panel, 1 on the 7" 800x480, '
        "1.75 on a 1080x1920 portrait).",
    )
    rotation: Literal[0, 90, 180, 270] = Field(
        0, description="Rotate the picture, degrees (a portrait panel wired as landscape: 90)."
    )
    fullscreen: bool = Field(
        True, description="Fullscreen without window chrome or cursor (false: a window)."
    )
    staff_pin_hash: str = Field(
        "",
        description="Hash of the 4-8 digit PIN an officer types on the out-of-service screen "
        "to clear faults without a reboot (`kiosk hash-pin`; empty: no recovery on the screen).",
    )
    staff_pin: str = Field(
        "",
        description="Not used: the PIN is kept only as a hash (staff_pin_hash); a PIN here is "
        "refused.",
    )
    inactivity_s: float = Field(
        30.0, ge=5, le=600, description="The keypad returns to the welcome screen after, s."
    )
    countdown_s: float = Field(
        10.0, ge=1, le=120, description="Show the return-to-welcome countdown for the last, s."
    )
    sound: SoundConfig = Field(default_factory=lambda: SoundConfig(), description="Sound.")

    @field_validator("staff_pin")
    @classmethod
    def _no_plain_pin(cls, value: str) -> str:
        if value:
            raise ValueError(
                "a PIN is never stored in the config: run `kiosk hash-pin`, put what it prints "
                "in ui.staff_pin_hash and remove ui.staff_pin"
            )
        return value

    @field_validator("staff_pin_hash")
    @classmethod
    def _pin_hash(cls, value: str) -> str:
        return value and check_hash_format(value, made_by="kiosk hash-pin")

    @model_validator(mode="after")
    def _orientation_matches(self) -> Self:
        portrait = self.height_px > self.width_px
        if portrait != (self.orientation == "portrait"):
            raise ValueError(
                f"ui.orientation = {self.orientation!r} but ui.width_px x height_px is "
                f"{self.width_px}x{self.height_px}; swap them or change the orientation"
            )
        if self.countdown_s >= self.inactivity_s:
            raise ValueError("ui.countdown_s must be shorter than ui.inactivity_s")
        return self


class KioskConfig(ConfigModel):
    """The whole kiosk: `kiosk config check FILE` validates this."""

    uplink: UplinkConfig
    booking: BookingConfig
    tickets: TicketsConfig
    camera: CameraConfig = Field(default_factory=lambda: CameraConfig(), description="Camera.")
    thermometer: ThermometerConfig = Field(
        default_factory=lambda: ThermometerConfig(), description="Temperature gate."
    )
    printer: PrinterConfig = Field(
        default_factory=lambda: PrinterConfig(transport="simulated"),
        description="Ticket printer.",
    )
    flow: FlowConfig = Field(default_factory=lambda: FlowConfig(), description="Screen timing.")
    capacity: CapacityConfig = Field(
        default_factory=lambda: CapacityConfig(), description="Branch occupancy."
    )
    privacy: PrivacyConfig = Field(
        default_factory=lambda: PrivacyConfig(), description="Temperature records."
    )
    ui: UiConfig = Field(default_factory=lambda: UiConfig(), description="Touchscreen.")
    state_interval_s: float = Field(
        30.0, gt=0, le=3600, description="Publish the retained device state this often, s."
    )

    @model_validator(mode="after")
    def _one_identity(self) -> Self:
        if self.booking.kiosk_id != self.uplink.device_id:
            raise ValueError(
                f"booking.kiosk_id {self.booking.kiosk_id!r} differs from uplink.device_id "
                f"{self.uplink.device_id!r}; they name the same kiosk, make them equal"
            )
        paths = {
            "uplink.outbox_path": self.uplink.outbox_path,
            "booking.ledger_path": self.booking.ledger_path,
            "tickets.book_path": self.tickets.book_path,
        }
        seen: dict[Path, str] = {}
        for key, path in paths.items():
            if path in seen:
                raise ValueError(f"{key} and {seen[path]} are the same file {path}; separate them")
            seen[path] = key
        return self
