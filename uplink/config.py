"""Configuration of a device's uplink, embedded in each app's config as its `[uplink]` table."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Self

from pydantic import Field, field_validator, model_validator

from configkit import ConfigModel, HostName, PeriodOrOff, Severity, tls_file_problems
from uplink.topics import check_id

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def is_loopback(host: str) -> bool:
    """True for localhost names and 127.0.0.0/8 or ::1 addresses."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BrokerConfig(ConfigModel):
    """How to reach the MQTT broker."""

    host: HostName = Field(description="Broker host name or address.")
    port: int = Field(8883, ge=1, le=65535, description="Broker TCP port (8883 for TLS).")
    tls: bool = Field(
        True, description="Use TLS with client certificates. Plain MQTT only to a loopback broker."
    )
    ca_file: Path | None = Field(
        None, description="PEM file of the CA that signed the broker's certificate."
    )
    cert_file: Path | None = Field(
        None, description="This client's certificate (PEM); its CN is the identity."
    )
    key_file: Path | None = Field(None, description="This client's private key (PEM, mode 0600).")
    username: str | None = Field(
        None, description="Only for plain loopback listeners: the identity to use."
    )
    password: str | None = Field(
        None, description="Only for plain loopback listeners (tests, benchmarks): its password."
    )
    keepalive_s: int = Field(30, ge=5, le=600, description="MQTT keepalive, seconds.")

    def file_problems(self) -> list[tuple[str, str, str, Severity]]:
        """Open the CA, certificate and key as the MQTT client will (`configkit.ChecksFiles`).

        A private key that others can read is a warning here and a failure in
        `provision check`; anything that stops TLS from loading is an error.
        """
        if not self.tls or not (self.ca_file and self.cert_file and self.key_file):
            return []
        return tls_file_problems(
            ("ca_file", self.ca_file),
            ("cert_file", self.cert_file),
            ("key_file", self.key_file),
            side="client",
            fix=self.install_fix(),
        )

    def install_fix(self) -> str:
        """How a missing CA, certificate or key gets here (said after "no such file; ")."""
        return "install it with `provision device init` or `provision device install-cert`"

    @model_validator(mode="after")
    def _tls_needs_files(self) -> Self:
        if self.tls:
            missing = [n for n in ("ca_file", "cert_file", "key_file") if getattr(self, n) is None]
            if missing:
                raise ValueError(
                    f"tls = true needs {', '.join(missing)}; set them or use a loopback broker"
                )
        elif not is_loopback(self.host):
            raise ValueError(
                f"plain MQTT to {self.host!r} is refused: credentials and events would cross the "
                "network in clear; set tls = true with ca_file, cert_file and key_file"
            )
        return self


class UplinkConfig(ConfigModel):
    """The device side of the link to the back office."""

    device_id: str = Field(
        description="This device's id: a-z, 0-9 and '-'; equals its certificate's CN."
    )
    broker: BrokerConfig
    outbox_path: Path = Field(
        description="SQLite file of the durable outbox, on the persistent data partition."
    )
    outbox_max_mb: float = Field(
        256.0, gt=0, description="Cap on the outbox size, MiB; critical events get the last 10 %."
    )
    ack_timeout_s: float = Field(
        10.0,
        gt=0,
        description=(
            "Longest wait for the back office's ack before re-sending an event, seconds "
            "(the wait adapts to measured ack times, from 1 s up to this)."
        ),
    )
    inflight_window: int = Field(
        32, ge=1, le=1000, description="MQTT publishes awaiting PUBACK at once."
    )
    max_unacked: int = Field(
        2000, ge=1, description="Events sent but not yet acked by the back office at once."
    )
    reconnect_min_s: float = Field(
        0.5, gt=0, description="First reconnect delay, seconds (grows exponentially, with jitter)."
    )
    reconnect_max_s: float = Field(30.0, gt=0, description="Longest reconnect delay, seconds.")
    session_expiry_s: int = Field(
        7 * 24 * 3600,
        ge=0,
        le=0xFFFFFFFF,  # MQTT 5 carries it in 4 bytes (0xFFFFFFFF: never expires)
        description="How long the broker keeps this offline device's session (queued acks), s.",
    )
    heartbeat_interval_s: PeriodOrOff = Field(
        60.0, ge=0, description="Heartbeat event period, seconds (at least 0.1); 0 disables."
    )

    @field_validator("device_id")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        return check_id(value)

    @model_validator(mode="after")
    def _backoff_order(self) -> Self:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be at least reconnect_min_s")
        return self
