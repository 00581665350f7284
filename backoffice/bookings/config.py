"""The booking back office's TOML file (`backoffice booking ... --config`, `backoffice api`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Self
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator, model_validator

from backoffice.bookings import tls
from configkit import (
    ConfigError,
    ConfigModel,
    HostName,
    Severity,
    TimeZoneName,
    check_time_zone,
    load,
    tls_file_problems,
)
from uplink import branches
from uplink.branches import known_branch
from uplink.registry import DeviceRegistry


class ApiConfig(ConfigModel):
    """Where the booking API listens, and its TLS (mutual TLS with the fleet PKI)."""

    host: HostName = Field("127.0.0.1", description="Address to bind.")
    port: int = Field(8470, ge=0, le=65535, description="TCP port (0 picks a free one).")
    tls_cert_file: Path | None = Field(
        None, description="Server certificate (PEM); with it the API speaks HTTPS only."
    )
    tls_key_file: Path | None = Field(None, description="Private key (PEM) of tls_cert_file.")
    client_ca_file: Path | None = Field(
        None,
        description="CA (PEM) that kiosk client certificates must chain to; when set, a client "
        "without a valid certificate is refused (mutual TLS). Use the fleet CA.",
    )
    client_crl_file: Path | None = Field(
        None,
        description="The fleet CA's CRL (PEM; its crl.pem, as the brokers' crlfile): a revoked "
        "client certificate is refused at the handshake. Read again on the next connection "
        "after it changes (copy the new one after `provision ca revoke`; no restart).",
    )

    def file_problems(self) -> list[tuple[str, str, str, Severity]]:
        """The API's TLS files opened as the server will (`configkit.ChecksFiles`)."""
        if self.tls_cert_file is None or self.tls_key_file is None:
            return []
        problems = tls_file_problems(
            ("client_ca_file", self.client_ca_file),
            ("tls_cert_file", self.tls_cert_file),
            ("tls_key_file", self.tls_key_file),
            side="server",
            fix="issue the API's server certificate with `provision ca issue --server-name`",
        )
        crl, ca = self.client_crl_file, self.client_ca_file
        if crl is None or ca is None:
            return problems
        if not crl.is_file():
            fix = "no such file; copy the fleet CA's crl.pem here (`provision ca list --dir CA`)"
            return [*problems, ("client_crl_file", str(crl), fix, "error")]
        # The wall clock, as OpenSSL's own check of the CRL at each handshake.
        found = tls.crl_problems(ca, crl, datetime.now(UTC))
        return [*problems, *(("client_crl_file", str(crl), m, s) for s, m in found)]

    @model_validator(mode="after")
    def _tls_files(self) -> Self:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("set api.tls_cert_file and api.tls_key_file together (or neither)")
        if self.client_ca_file is not None and self.tls_cert_file is None:
            raise ValueError("api.client_ca_file needs api.tls_cert_file and api.tls_key_file")
        if self.client_crl_file is not None and self.client_ca_file is None:
            raise ValueError("api.client_crl_file needs api.client_ca_file (the CA it revokes for)")
        return self

    def tls_files(self) -> tls.TlsFiles | None:
        """The TLS files as the server loads them; None without TLS."""
        if self.tls_cert_file is None or self.tls_key_file is None:
            return None
        return tls.TlsFiles(
            self.tls_cert_file, self.tls_key_file, self.client_ca_file, self.client_crl_file
        )


class BookingsConfig(ConfigModel):
    """Everything the booking back office needs."""

    database_path: Path = Field(description="SQLite file with bookings, keys and check-ins.")
    keys_dir: Path = Field(
        description="Directory of the private keys (created 0700, files 0600). Back it up."
    )
    default_timezone: TimeZoneName = Field(
        "Asia/Jakarta", description="IANA zone of branches not listed in branch_timezones."
    )
    branch_timezones: dict[str, str] = Field(
        default_factory=dict,
        description="Branch id → IANA zone, overriding the branch table's (uplink/branches.toml "
        'has each branch\'s zone), e.g. {"bali-denpasar" = "Asia/Makassar"}.',
    )
    branches: list[str] = Field(
        default_factory=list,
        description="Branch ids this back office books for, each in the branch table "
        "(uplink/branches.toml; GET /v1/branches, compared by `provision check`); empty: every "
        "branch in the table.",
    )
    token_grace_h: int = Field(
        12, ge=1, le=72, description="Hours after the slot end a token stays valid."
    )
    key_validity_days: int = Field(
        365, ge=1, le=3650, description="Days a new signing key may sign (rotate before)."
    )
    key_retention_days: int = Field(
        60,
        ge=1,
        le=3650,
        description="Days a retired key stays in the trust list (its tokens keep verifying).",
    )
    cancellation_horizon_days: int = Field(
        7, ge=1, le=60, description="Days ahead the cancellations list covers."
    )
    event_store_path: Path | None = Field(
        None,
        description="The receiver's SQLite event store; check-in events there are merged into "
        "the day lists (cross-kiosk duplicates). Leave out when no receiver runs here.",
    )
    event_store_url: SecretStr | None = Field(
        None,
        description="The receivers' PostgreSQL event store instead of event_store_path: "
        "postgresql://USER@HOST:PORT/DBNAME (the receiver's database_url; password in "
        "~/.pgpass or PGPASSFILE).",
    )
    device_registry_path: Path | None = Field(
        None,
        description="The fleet's device registry (`provision fleet registry --ca CA --out "
        "FILE`), read again when it changes: a check-in counts only from a registered kiosk of "
        "the booking's branch, and a kiosk's client certificate reads only its branch's lists. "
        "Needed with an event store.",
    )
    checkin_event_types: list[str] = Field(
        default_factory=lambda: ["kiosk.checkin.accepted"],
        description="Event types that mean 'booking checked in' (payload has booking_id).",
    )
    api: ApiConfig = Field(default_factory=ApiConfig, description="The HTTP API's address.")

    @field_validator("event_store_url")
    @classmethod
    def _postgres_only(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and not url.get_secret_value().startswith(
            ("postgresql://", "postgres://")
        ):
            raise ValueError("must start with postgresql:// (for SQLite set event_store_path)")
        return url

    @model_validator(mode="after")
    def _event_store(self) -> Self:
        if self.event_store_path is not None and self.event_store_url is not None:
            raise ValueError(
                "set event_store_path (SQLite) or event_store_url (PostgreSQL), not both"
            )
        export = "export it with `provision fleet registry --ca CA --out FILE`"
        if self.has_event_store and self.device_registry_path is None:
            raise ValueError(
                "an event store needs device_registry_path: without it any device could mark "
                f"any booking used ({export})"
            )
        if self.api.client_ca_file is not None and self.device_registry_path is None:
            raise ValueError(
                "api.client_ca_file needs device_registry_path: a kiosk's certificate reads its "
                f"own branch's lists, and the registry says which branch that is ({export})"
            )
        return self

    def file_problems(self) -> list[tuple[str, str, str, Severity]]:
        """The device registry read as the API will (`configkit.ChecksFiles`)."""
        if self.device_registry_path is None:
            return []
        try:
            load(DeviceRegistry, self.device_registry_path)
        except ConfigError as exc:
            first = str(exc).splitlines()[0]
            fix = "export it with `provision fleet registry --ca CA_DIR --out FILE`"
            return [("device_registry_path", str(self.device_registry_path), f"{first}; {fix}",
                     "error")]  # fmt: skip
        return []

    @property
    def has_event_store(self) -> bool:
        """Whether check-ins are imported from a receiver's event store."""
        return self.event_store_path is not None or self.event_store_url is not None

    @field_validator("branch_timezones")
    @classmethod
    def _zones(cls, value: dict[str, str]) -> dict[str, str]:
        for branch, zone in value.items():
            try:
                check_time_zone(zone)
            except ValueError as exc:
                raise ValueError(f"branch {branch!r}: {exc}") from None
        return value

    @field_validator("branches")
    @classmethod
    def _branch_ids(cls, value: list[str]) -> list[str]:
        for branch in value:
            known_branch(branch)
        return value

    def zone_of(self, branch: str) -> ZoneInfo:
        """The time zone of a branch: branch_timezones, else the branch table's, else default."""
        known = branches.table().get(branch)
        zone = self.branch_timezones.get(branch) or (known.timezone if known else None)
        return ZoneInfo(zone or self.default_timezone)

    def served_branches(self) -> list[str]:
        """The branch ids this back office books for."""
        return sorted(self.branches or branches.table())
