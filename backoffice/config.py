"""The back office's configuration (one TOML file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator

from configkit import ConfigModel, TimeZoneName
from uplink.config import BrokerConfig


class ReceiverBrokerConfig(BrokerConfig):
    """The back office's `[broker]`: its identity is not a device's (`provision device` makes
    those) but a key made here and signed by the fleet CA, with the CN the broker's ACL names."""

    def install_fix(self) -> str:
        """The back office's identity made with `provision key` and `provision ca issue`."""
        key = self.key_file or "/etc/lapak/pki/backoffice.key"
        cert = self.cert_file or "/etc/lapak/pki/backoffice.crt"
        return (
            "copy the fleet CA's ca.crt to ca_file; make the back office's key and certificate "
            f"(CN backoffice) with `provision key --cn backoffice --key {key} --csr "
            "backoffice.csr`, then on the CA `provision ca issue --dir /mnt/lapak-ca --csr "
            f"backoffice.csr --out {cert}`"
        )


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

    @field_validator("broker")
    @classmethod
    def _receiver_broker(cls, broker: BrokerConfig) -> BrokerConfig:
        # Any broker settings (a simulated branch hands its client's) speak as the back office's.
        if isinstance(broker, ReceiverBrokerConfig):
            return broker
        return ReceiverBrokerConfig.model_validate(broker.model_dump())

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
