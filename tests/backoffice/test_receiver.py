"""The reference receiver: idempotent storage, acks only after the commit, bad input kept aside."""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from backoffice.receiver import Receiver
from tests.conftest import STORE_KINDS, RawDevice, UplinkFactory, queries
from uplink import Outbox, topics

DeviceFactory = Callable[[str], RawDevice]


def probe(tmp_path: Path, device_id: str, n: int = 0) -> bytes:
    """A valid envelope, as the device's outbox would have recorded it."""
    return (
        Outbox(tmp_path / f"{device_id}.db", device_id)
        .record("device.probe", {"purpose": "test", "n": n})
        .to_json()
    )


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_duplicates_are_stored_once_and_acked_every_time(
    backoffice: Receiver, raw_device: DeviceFactory, tmp_path: Path
) -> None:
    device = raw_device("kiosk-5")
    body = probe(tmp_path, "kiosk-5")
    event_id = json.loads(body)["event_id"]
    for _ in range(3):
        device.publish(body)
    assert device.wait_acks(3)
    assert device.acked == [event_id] * 3
    assert queries(backoffice).event_ids("device.probe") == [event_id]
    assert backoffice.duplicates == 2


def test_an_envelope_off_its_schema_is_kept_aside_and_acked_so_it_is_not_resent(
    backoffice: Receiver, raw_device: DeviceFactory, tmp_path: Path
) -> None:
    device = raw_device("kiosk-8")
    envelope = json.loads(probe(tmp_path, "kiosk-8"))
    envelope["payload"] = {"purpose": "test", "unexpected": True}
    device.publish(json.dumps(envelope).encode())
    assert device.wait_acks(1)
    assert device.acked == [envelope["event_id"]]
    assert queries(backoffice).count() == 0
    assert queries(backoffice).rejected_count() == 1


def test_garbage_and_impersonation_are_kept_aside_and_never_acked(
    backoffice: Receiver, raw_device: DeviceFactory, tmp_path: Path
) -> None:
    device = raw_device("kiosk-9")
    device.publish(b"\xff not json")
    # An envelope naming another device, sent on this device's own topic.
    device.publish(probe(tmp_path, "kiosk-10"))
    # The receiver keeps serving: a good event after the bad ones is stored and acked.
    good = probe(tmp_path, "kiosk-9", n=1)
    device.publish(good)
    assert device.wait_acks(1)
    assert device.acked == [json.loads(good)["event_id"]]
    assert queries(backoffice).rejected_count() == 2
    assert queries(backoffice).event_ids() == [json.loads(good)["event_id"]]


def test_status_and_state_messages_update_the_device_table(
    backoffice: Receiver, raw_device: DeviceFactory, tmp_path: Path
) -> None:
    device = raw_device("dropbox-9")
    state = {"summary": "3 dokumen menunggu / 3 waiting", "alerts": ["tamper"]}
    device.publish(json.dumps(state).encode(), topic=topics.state("dropbox-9"))
    device.publish(json.dumps({"schema_version": 1, "online": True}).encode(),
                   topic=topics.status("dropbox-9"))  # fmt: skip
    device.publish(probe(tmp_path, "dropbox-9"))  # its ack proves the batch before it was handled
    assert device.wait_acks(1)
    (row,) = [d for d in queries(backoffice).devices() if d.device_id == "dropbox-9"]
    assert row.online is True
    assert row.state == state


def test_each_device_reports_the_software_version_it_runs(
    backoffice: Receiver, make_uplink: UplinkFactory
) -> None:
    """Issue 15: nothing showed which version each device runs. A device's retained status
    carries its package's version (from the installed metadata); the device table keeps it."""
    uplink = make_uplink("kiosk-7")
    uplink.record("device.probe", {"purpose": "test"})
    assert uplink.wait_drained(10)  # the status went out before the event it was acked for
    (row,) = [d for d in queries(backoffice).devices() if d.device_id == "kiosk-7"]
    assert row.software == importlib.metadata.version("lapak-asik-appliance")
    assert row.online is True


def test_a_batch_is_stored_item_by_item_and_its_bad_items_are_judged_alone(
    backoffice: Receiver, raw_device: DeviceFactory, tmp_path: Path
) -> None:
    """GIVEN one message holding a batch (uplink.batches) with two good events, one off its
    schema and one naming another device, then a batch that is not JSON and one over the bound
    THEN the good ones are stored and acked, the invalid one kept aside and acked (it names its
    id), the impersonating one kept aside unacked, and nothing of the unreadable batches acked
    (its device re-sends those events alone)."""
    device = raw_device("kiosk-11")
    good = [probe(tmp_path, "kiosk-11", n) for n in range(2)]
    bad = json.loads(probe(tmp_path, "kiosk-11", 2))
    bad["payload"] = {"purpose": "test", "unexpected": True}
    other = probe(tmp_path, "kiosk-12")
    batch = b"[" + b",".join([good[0], json.dumps(bad).encode(), other, good[1]]) + b"]"
    device.publish(b"[" + good[0] + b", not json]")
    device.publish(b"[" + b",".join([good[0]] * 101) + b"]")
    device.publish(batch)
    assert device.wait_acks(3)
    ids = [json.loads(body)["event_id"] for body in good]
    assert sorted(device.acked) == sorted([*ids, bad["event_id"]])
    assert sorted(queries(backoffice).event_ids()) == sorted(ids)
    assert queries(backoffice).rejected_count() == 4
    assert backoffice.stored == 2
