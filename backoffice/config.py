"""The back office's configuration (one TOML file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

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
    database_path: Path = Field(description="SQLite file of the event store.")
    receiver: ReceiverConfig = ReceiverConfig()
    timezone: TimeZoneName = Field(
        "Asia/Jakarta",
        description="IANA zone `backoffice watch` shows times in: Asia/Jakarta (WIB), "
        "Asia/Makassar (WITA) or Asia/Jayapura (WIT).",
    )
