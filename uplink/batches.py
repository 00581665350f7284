"""Several events in one MQTT message: the wire form, and how a device learns it may send one.

Every PUBLISH costs both ends the same fixed work in paho (packet decoding, MQTT 5 properties, a
PUBACK and its callbacks) and the broker its routing, however small the event: while a device
drains a backlog, that fixed work, not the events, was most of the time. So a device may join
consecutive events into one message, a JSON array of envelopes (each valid on its own against
``envelope.v1.json``), but only once the back office has said it reads them:

- A receiver that reads batches puts the MQTT 5 user property ``lapak-batch-max`` on its acks:
  the most events it takes in one message (`BATCH_MAX_EVENTS`).
- A device sends single envelopes, as the contract always allowed, until an ack of the current
  session carries that property; then up to that many events (and `BATCH_MAX_BYTES`) per message.
- An older receiver never sets it, and a bridge speaking MQTT 3.1.1 drops it: either way the
  device keeps sending single envelopes, which every receiver reads.
- Re-sent events always go alone. A receiver acks none of a batch it cannot parse (it cannot
  tell which event spoiled it), so each of its events comes back on its own and is judged alone.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from uplink.errors import MessageError
from uplink.outbox import Row

BATCH_MAX_PROPERTY = "lapak-batch-max"
BATCH_MAX_EVENTS = 100
# Well under the broker's 256 KiB packet limit (events are under 2 KiB each): one batch never
# costs a device its connection.
BATCH_MAX_BYTES = 64 * 1024


def ack_properties(max_events: int = BATCH_MAX_EVENTS) -> Properties:
    """The PUBLISH properties a receiver that reads batches puts on its acks."""
    properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    properties.UserProperty = (BATCH_MAX_PROPERTY, str(max_events))
    return properties


def offered_max(properties: Properties | None) -> int:
    """How many events per message an ack's sender reads: 1 unless it says more.

    Hostile-safe: a missing, repeated, non-numeric or out-of-range value means 1 (or the cap).
    """
    pairs = getattr(properties, "UserProperty", None) or []
    values = [value for name, value in pairs if name == BATCH_MAX_PROPERTY]
    if len(values) != 1 or not values[0].isascii() or not values[0].isdigit():
        return 1
    return max(1, min(BATCH_MAX_EVENTS, int(values[0][:6])))


def groups(rows: Sequence[Row], max_events: int) -> Iterator[Sequence[Row]]:
    """Consecutive runs of `rows`, each at most `max_events` events and `BATCH_MAX_BYTES` bytes
    once joined (a single row over the byte limit goes alone, as a plain envelope)."""
    if max_events <= 1:
        yield from ((row,) for row in rows)
        return
    start, size = 0, 2
    for index, row in enumerate(rows):
        count = index - start
        if count and (count >= max_events or size + len(row.body) + 1 > BATCH_MAX_BYTES):
            yield rows[start:index]
            start, size = index, 2
        size += len(row.body) + 1
    if start < len(rows):
        yield rows[start:]


def join(bodies: Sequence[bytes]) -> bytes:
    """One message: the envelope itself, or a JSON array of the stored envelopes (not
    re-encoded: each is sent as the outbox stored it)."""
    return bodies[0] if len(bodies) == 1 else b"[" + b",".join(bodies) + b"]"


def items(data: Any) -> list[Any]:
    """The envelopes (still unvalidated) of a parsed event message.

    Raises:
        MessageError: neither an object nor an array of 1..BATCH_MAX_EVENTS items.
    """
    if isinstance(data, list):
        if not 1 <= len(data) <= BATCH_MAX_EVENTS:
            raise MessageError(
                f"a batch of {len(data)} events; an event message is one envelope or an array "
                f"of 1 to {BATCH_MAX_EVENTS}"
            )
        return data
    return [data]
