"""The uplink's exceptions.

UplinkError                   root of everything the uplink raises
├── MessageError (ValueError) a message or payload does not match the contract
├── StorageError (OSError)    the outbox's file could not be read or written (disk, I/O)
│   └── OutboxFull            a critical event could not be stored: disk or outbox cap reached
└── TopicError (ValueError)   a device id or topic is not usable in the topic scheme
"""


class UplinkError(Exception):
    """Root of the uplink's exceptions."""


class MessageError(UplinkError, ValueError):
    """A message does not match the contract."""


class StorageError(UplinkError, OSError):
    """The outbox's file could not be read or written (disk full, I/O error, corruption).

    Callers handle it where it happens and try again later: nothing in the outbox is lost.
    """


class OutboxFull(StorageError):
    """A critical event could not be stored; the device must say so loudly."""


class TopicError(UplinkError, ValueError):
    """A device id or topic is not valid in the topic scheme."""
