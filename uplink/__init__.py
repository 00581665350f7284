"""The device-to-back-office link shared by the kiosk and the dropbox agent.

Public surface::

    Uplink, UplinkStats          durable outbox + MQTT v5 session (uplink.session, .sender)
    Outbox                       the SQLite outbox on its own (uplink.outbox)
    UplinkConfig, BrokerConfig   the `[uplink]` config table (uplink.config)
    Envelope, EventType, catalog the message contract and its JSON Schemas (uplink.messages)
    topics                       the topic scheme (uplink.topics)
    Clock, SystemClock, ManualClock, SimulatedClock
    UplinkError, MessageError, StorageError, OutboxFull, TopicError
"""

from uplink import inbound, topics
from uplink.clock import Clock, ManualClock, SimulatedClock, SystemClock
from uplink.config import BrokerConfig, UplinkConfig
from uplink.errors import MessageError, OutboxFull, StorageError, TopicError, UplinkError
from uplink.messages import Envelope, EventType, catalog
from uplink.outbox import Outbox
from uplink.sender import UplinkStats
from uplink.session import Uplink
from uplink.sink import EventLog, EventSink

__all__ = [
    "BrokerConfig",
    "Clock",
    "Envelope",
    "EventLog",
    "EventSink",
    "EventType",
    "ManualClock",
    "MessageError",
    "Outbox",
    "OutboxFull",
    "SimulatedClock",
    "StorageError",
    "SystemClock",
    "TopicError",
    "Uplink",
    "UplinkConfig",
    "UplinkError",
    "UplinkStats",
    "catalog",
    "inbound",
    "topics",
]
