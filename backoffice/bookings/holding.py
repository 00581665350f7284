"""Which kiosks hold a trust list: read from the sequence each reports in its retained state.

Before the back office starts signing with a next key, every kiosk should hold a trust list that
lists it. Each kiosk's state message carries `trust_list_sequence` (the list it holds), stored
by the receiver with the device; a device's state is its own word, so any other shape is read as
"not known".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from backoffice.store import DeviceRow


@dataclass(frozen=True)
class Holding:
    """Kiosks against one trust-list sequence.

    Attributes:
        holding: Kiosks whose state reports this sequence or a later one.
        behind: Kiosks whose state reports an older one (they have not synced since).
    """

    holding: tuple[str, ...]
    behind: tuple[str, ...]


def reported_sequence(state: object) -> int | None:
    """The trust-list sequence a device's state reports, or None (no such field, or not an int)."""
    if not isinstance(state, dict):
        return None
    value = state.get("trust_list_sequence")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def holding(devices: Iterable[DeviceRow], sequence: int) -> Holding:
    """Split the devices that report a trust list into those holding `sequence` and behind it."""
    held: list[str] = []
    behind: list[str] = []
    for device in devices:
        reported = reported_sequence(device.state)
        if reported is None:
            continue
        (held if reported >= sequence else behind).append(device.device_id)
    return Holding(tuple(held), tuple(behind))
