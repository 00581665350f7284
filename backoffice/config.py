"""The back office's configuration (one TOML file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator

from configkit import ConfigModel, TimeZoneName
from uplink.config import BrokerConfig


class ReceiverConfig(ConfigModel):
    """The event receiver: subscribes to every device's events and acks what it stored."""

    receiver_id: str = Field(
        "receiver-1",
        pattern=r"^[a-z0-9-]{1,40}$",
        description="MQTT client id suffix; unique per receiver process.",
    )
    share_group: str = Field(
        "backoffice",
        pattern=r"^[a-z0-9-]{1,40}$",
        description="MQTT 5 shared-subscription group: receivers in one group split the load.",
    )
    batch_max: int = Field(1000, ge=1, le=10000, description="Most events stored in one commit.")


class BackofficeConfig(ConfigModel):
    """Everything `backoffice` needs."""

    broker: BrokerConfig
    database_path: Path | None = Field(
        None, description="SQLite file of the event store (a branch, a laptop: the default)."
    )
    database_url: SecretStr | None = Field(
        None,
        description=(
            "PostgreSQL event store instead of SQLite (head office, several receivers):"
            " postgresql://USER@HOST:PORT/DBNAME; keep the password in ~/.pgpass or PGPASSFILE."
        ),
    )
    receiver: ReceiverConfig = ReceiverConfig()
    timezone: TimeZoneName = Field(
        "Asia/Jakarta",
        description="IANA zone `backoffice watch` shows times in: Asia/Jakarta (WIB), "
        "Asia/Makassar (WITA) or Asia/Jayapura (WIT).",
    )

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and not url.get_secret_value().startswith(
            ("postgresql://", "postgres://")
        ):
            raise ValueError("must start with postgresql:// (for SQLite set database_path)")
        return url

    @model_validator(mode="after")
    def _one_store(self) -> BackofficeConfig:
        if (self.database_path is None) == (self.database_url is None):
            raise ValueError(
                "set exactly one of database_path (SQLite) and database_url (PostgreSQL)"
            )
        return self
