"""One stolen device certificate against the rendered broker: no foreign message delivered, no
session taken over, no reserved identity provisioned, no oversized message accepted."""

from __future__ import annotations

import queue
from typing import Any

import pytest

from tests.security.conftest import BRANCH, NOT_AUTHORIZED, Fleet
from uplink import topics

GRANTED_QOS1 = 1
# What a device certificate might try to subscribe to in order to read others' traffic.
FOREIGN_FILTERS = (
    "$share/backoffice/lapak/v1/dev/+/evt",  # the back office's share group: steals events
    "$share/backoffice/#",
    "$share/hostile/lapak/v1/dev/+/evt",
    "$share/hostile/lapak/v1/dev/kiosk-2/ack",
    "lapak/v1/dev/+/evt",
    "lapak/v1/dev/kiosk-2/ack",
    "lapak/v1/dev/+/ack",
    "lapak/v1/dev/dropbox-1/cmd/#",
    "lapak/v1/dev/+/state",
    "#",
    "+/#",
    "$SYS/#",
    "$CONTROL/dynamic-security/#",
)


@pytest.mark.parametrize("topic_filter", FOREIGN_FILTERS)
def test_a_device_cannot_subscribe_to_what_is_not_its_own(connect: Any, topic_filter: str) -> None:
    hostile = connect("kiosk-1")
    assert hostile.subscribe(topic_filter) == NOT_AUTHORIZED


def test_a_device_subscribes_to_its_own_acks_commands_and_occupancy(connect: Any) -> None:
    kiosk = connect("kiosk-1")
    for own in (topics.ack("kiosk-1"), topics.command("kiosk-1"), topics.occupancy(BRANCH)):
        assert kiosk.subscribe(own) == GRANTED_QOS1, own


def test_the_back_office_share_group_gets_every_event_while_a_device_tries_to_join_it(
    connect: Any,
) -> None:
    """The issue's attack: ten hostile members of `$share/backoffice` took most events away."""
    office = connect("backoffice")
    assert office.subscribe(topics.all_events()) == GRANTED_QOS1
    hostiles = [connect("kiosk-1") for _ in range(1)] + [connect("dropbox-2")]
    for hostile in hostiles:
        assert hostile.subscribe(topics.all_events()) == NOT_AUTHORIZED
    victim = connect("dropbox-1")
    for n in range(200):
        assert victim.publish(topics.events("dropbox-1"), f"{n}".encode()) == 0
    got = office.received(200)
    assert [body for _, body in got] == [f"{n}".encode() for n in range(200)]
    for hostile in hostiles:
        assert hostile.messages.empty()


def test_forged_publishes_are_refused(connect: Any) -> None:
    hostile = connect("kiosk-1")
    forged = {
        topics.events("kiosk-2"): b"{}",
        topics.status("kiosk-2"): b"offline",
        topics.state("dropbox-1"): b"{}",
        topics.ack("kiosk-1"): b'{"acked": []}',  # only the back office acks
        topics.command("dropbox-1", "collection-count"): b"{}",
        topics.occupancy(BRANCH): b"{}",
        f"lapak/v1/bridge/{BRANCH}/status": b"0",
        "$CONTROL/dynamic-security/v1": b'{"commands": []}',
    }
    for topic, body in forged.items():
        assert hostile.publish(topic, body) == NOT_AUTHORIZED, topic


def test_another_devices_client_id_does_not_take_its_session(fleet: Fleet, connect: Any) -> None:
    """A collection-count command queued for an offline dropbox was lost to a client-id thief."""
    box = connect("dropbox-1", clean_start=False, session_expiry_s=3600)
    assert box.subscribe(topics.command("dropbox-1")) == GRANTED_QOS1
    box.close()  # the dropbox goes offline; its session stays on the broker
    office = connect("backoffice")
    assert office.publish(topics.command("dropbox-1", "collection-count"), b"count 12") == 0

    thief = connect("kiosk-1", client_id="dropbox-1", clean_start=True)
    # The broker names the session after the certificate, not after what the client asked.
    assert thief.messages.empty()
    assert "kiosk-1 (p5" in fleet.log() or "as kiosk-1" in fleet.log()

    back = connect("dropbox-1", clean_start=False, session_expiry_s=3600)
    assert back.received(1) == [(topics.command("dropbox-1", "collection-count"), b"count 12")]
    assert thief.messages.empty()


def test_the_back_offices_client_id_does_not_stop_ingest(connect: Any) -> None:
    """Using the back office's client id stopped ingest (0 of 19 events acked)."""
    office = connect("backoffice")
    assert office.subscribe(topics.all_events()) == GRANTED_QOS1
    hostile = connect("kiosk-1", client_id="backoffice")
    victim = connect("kiosk-2")
    for n in range(19):
        assert victim.publish(topics.events("kiosk-2"), f"{n}".encode()) == 0
    assert len(office.received(19)) == 19
    with pytest.raises(queue.Empty):
        office.disconnects.get(timeout=0.2)
    assert hostile.messages.empty()


def test_another_back_office_process_has_its_own_identity_and_session(connect: Any) -> None:
    """Back-office processes share the role, never the session: each has its own certificate."""
    first = connect("backoffice")
    second = connect("backoffice-rx-2", client_id="backoffice")
    for office in (first, second):
        assert office.subscribe(topics.all_events()) == GRANTED_QOS1
    victim = connect("kiosk-2")
    for n in range(10):
        assert victim.publish(topics.events("kiosk-2"), f"{n}".encode()) == 0
    got = first.received(5) + second.received(5)
    assert sorted(body for _, body in got) == sorted(f"{n}".encode() for n in range(10))
    with pytest.raises(queue.Empty):
        first.disconnects.get(timeout=0.2)


@pytest.mark.parametrize(
    "reserved",
    [
        "backoffice",
        "backoffice-rx-9",
        "bridge-jkt-01",
        "bridge-sby-02",
        "operator",
        "operator-7",
        "broker",
        "broker-central",
    ],
)
def test_reserved_identities_are_refused_to_devices(
    fleet: Fleet, reserved: str, capsys: pytest.CaptureFixture[str]
) -> None:
    issued = len(fleet.ca.records())
    assert fleet.provision(reserved) == 3  # EXIT_REFUSED
    assert "reserved" in capsys.readouterr().err
    assert len(fleet.ca.records()) == issued  # nothing signed
    assert not (fleet.base / "devices" / reserved).exists()


def test_a_certificate_the_broker_does_not_know_has_no_rights(fleet: Fleet, connect: Any) -> None:
    """A CA-signed identity issued after the broker's render (or a server's) may do nothing."""
    fleet.issue("kiosk-late")
    late = connect("kiosk-late")
    assert late.subscribe(topics.ack("kiosk-late")) == NOT_AUTHORIZED
    assert late.publish(topics.events("kiosk-late"), b"{}") == NOT_AUTHORIZED


def test_a_device_cannot_administer_the_broker(connect: Any) -> None:
    hostile = connect("kiosk-1")
    body = (
        b'{"commands":[{"command":"addClientRole","username":"kiosk-1","rolename":"backoffice"}]}'
    )
    assert hostile.publish("$CONTROL/dynamic-security/v1", body) == NOT_AUTHORIZED
    assert hostile.subscribe(topics.all_events()) == NOT_AUTHORIZED


def test_a_100_mb_message_is_refused_at_the_broker(fleet: Fleet, connect: Any) -> None:
    """The receiver peaked at 517 MB RSS, and a 100 MB retained status was replayed forever."""
    office = connect("backoffice")
    assert office.subscribe(topics.all_events()) == GRANTED_QOS1
    assert office.subscribe("lapak/v1/dev/+/status") == GRANTED_QOS1
    rss_before = fleet.rss_kib()
    hostile = connect("kiosk-1")
    hostile.client.publish(topics.status("kiosk-1"), b"x" * 100_000_000, qos=1, retain=True)
    # The broker reads the length, refuses the packet and drops the connection.
    assert hostile.disconnects.get(timeout=30) != 0
    assert "oversize packet" in fleet.log()
    assert office.messages.empty()
    late = connect("backoffice-rx-2")
    assert late.subscribe("lapak/v1/dev/+/status") == GRANTED_QOS1
    with pytest.raises(queue.Empty):
        late.messages.get(timeout=0.5)  # nothing retained
    assert fleet.rss_kib() - rss_before < 50_000  # the 100 MB never sat in the broker
    hostile.client.loop_stop()


def test_the_size_limit_leaves_room_for_real_messages(connect: Any) -> None:
    office = connect("backoffice")
    assert office.subscribe(topics.all_events()) == GRANTED_QOS1
    kiosk = connect("kiosk-2")
    assert kiosk.publish(topics.events("kiosk-2"), b"x" * 200_000) == 0
    assert office.received(1)[0][1] == b"x" * 200_000
