"""The kiosk's `[booking]` table: branch, time rules, trust anchors, cache and back-office API."""

from __future__ import annotations

from pathlib import Path
from typing import Self
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator

from configkit import ConfigModel, TimeZoneName
from uplink.booking.trustlist import load_anchor
from uplink.branches import known_branch

_ID = r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$"


class BookingConfig(ConfigModel):
    """How this kiosk checks bookings (the `[booking]` table of the kiosk's TOML file)."""

    kiosk_id: str = Field(
        pattern=_ID, description="This kiosk's id, recorded with every check-in it makes."
    )
    branch: str = Field(
        pattern=_ID,
        description="The branch id this kiosk stands in: one of uplink/branches.toml (the back "
        "office books only those).",
    )
    timezone: TimeZoneName = Field(
        "Asia/Jakarta",
        description="IANA zone of the branch: Asia/Jakarta (WIB), Asia/Makassar (WITA) or "
        "Asia/Jayapura (WIT). Decides what 'today' is.",
    )
    early_tolerance_min: int = Field(
        30, ge=0, le=480, description="Minutes before the slot start a participant may check in."
    )
    late_tolerance_min: int = Field(
        30, ge=0, le=480, description="Minutes after the slot end a participant may still check in."
    )
    clock_skew_s: int = Field(
        300,
        ge=0,
        le=86400,
        description="Seconds a token's issue time may lie in the kiosk's future (clock drift).",
    )
    trust_anchors: list[str] = Field(
        min_length=1,
        description="Base64 Ed25519 root public keys that sign the trust list "
        "(`backoffice booking keygen` prints it).",
    )
    trust_list_path: Path = Field(
        description="The signed trust list file: installed at provisioning, replaced by sync."
    )
    cache_dir: Path = Field(
        description="Directory for synced cancellations and day bookings, with their ETags."
    )
    ledger_path: Path = Field(description="SQLite file of the check-in ledger.")
    api_base_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="Back-office booking API, e.g. https://backoffice.example/api; "
        "leave out to run on provisioned files only (no sync, no typed-code lookup).",
    )
    tls_ca_file: Path | None = Field(
        None,
        description="CA certificate (PEM) the API's server certificate must chain to; leave out "
        "to use the system CAs. Usually the fleet CA (the uplink's ca_file).",
    )
    tls_cert_file: Path | None = Field(
        None,
        description="Client certificate (PEM) presented to the API (mutual TLS); usually the "
        "kiosk's uplink certificate.",
    )
    tls_key_file: Path | None = Field(
        None, description="Private key (PEM) of tls_cert_file; set both or neither."
    )
    connect_timeout_s: float = Field(
        3.0, gt=0, le=60, description="Seconds to wait for the API's TCP/TLS connection."
    )
    read_timeout_s: float = Field(
        5.0, gt=0, le=120, description="Seconds to wait for the API's answer."
    )
    http_retries: int = Field(
        2, ge=0, le=10, description="Extra attempts after a connection error or a 502/503/504."
    )
    lookup_retries: int = Field(
        1,
        ge=0,
        le=5,
        description="Extra attempts for a typed-code lookup (a participant is waiting).",
    )
    retry_backoff_s: float = Field(
        0.3, ge=0, le=30, description="Backoff factor between retries (0.3 → 0.3 s, 0.6 s, ...)."
    )
    sync_interval_s: float = Field(
        60.0, ge=5, le=3600, description="Seconds between syncs of trust list and bookings."
    )
    trust_list_interval_s: float = Field(
        15.0,
        ge=5,
        le=3600,
        description="Seconds between fetches of the trust list alone, between full syncs: how "
        "soon a withdrawn signing key is refused here (a 304 when nothing changed).",
    )
    unknown_key_refresh_s: float = Field(
        30.0,
        ge=1,
        le=3600,
        description="A token signed by a key this kiosk does not hold makes it fetch the trust "
        "list, at most once per this many seconds.",
    )
    cache_stale_after_s: float = Field(
        900.0,
        gt=0,
        description="Cache age in seconds after which the kiosk raises a 'cache is old' alert.",
    )

    @field_validator("branch")
    @classmethod
    def _known_branch(cls, value: str) -> str:
        # The back office books only the table's branches: a kiosk elsewhere would refuse every
        # booking as "another branch" (provisioning refuses such a branch too).
        known_branch(value)
        return value

    @field_validator("trust_anchors")
    @classmethod
    def _anchors(cls, value: list[str]) -> list[str]:
        for index, text in enumerate(value):
            try:
                load_anchor(text)
            except ValueError as exc:
                raise ValueError(
                    f"trust_anchors[{index}]: {exc}; copy the root key `backoffice booking "
                    "keygen` printed"
                ) from None
        return value

    @model_validator(mode="after")
    def _tls_pairs(self) -> Self:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("set tls_cert_file and tls_key_file together (or neither)")
        uses_tls = self.tls_ca_file is not None or self.tls_cert_file is not None
        if uses_tls and not (self.api_base_url or "").startswith("https://"):
            raise ValueError("TLS files are set, so api_base_url must start with https://")
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The branch time zone."""
        return ZoneInfo(self.timezone)
