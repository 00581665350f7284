"""The kiosk's config: whole-file checks that name the key and say how to fix it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import ValidationError

from kiosk.app import policy_from, settings_from
from kiosk.config import KioskConfig
from kiosk.sim.bookings import SimIssuer
from kiosk.sim.demo import demo_config
from uplink import MessageError
from uplink.sink import EventLog


@pytest.fixture(scope="module")
def issuer() -> SimIssuer:
    return SimIssuer()


def config(tmp_path: Path, issuer: SimIssuer, **tables: dict[str, Any]) -> KioskConfig:
    return demo_config(tmp_path, issuer, **cast(dict[str, Any], tables))


def test_the_demo_config_maps_onto_the_engine_settings(tmp_path: Path, issuer: SimIssuer) -> None:
    made = config(tmp_path, issuer, thermometer={"threshold_c": 37.8, "retry_rest_s": 5})

    settings = settings_from(made)

    assert settings.kiosk_id == made.uplink.device_id
    assert settings.class_letters == {"online": "A", "collective": "B", "walkin": "C"}
    assert policy_from(made).threshold_c == 37.8 and policy_from(made).retry_rest_s == 5


def test_the_kiosk_id_must_be_the_uplink_device_id(tmp_path: Path, issuer: SimIssuer) -> None:
    data = config(tmp_path, issuer).model_dump()
    data["booking"]["kiosk_id"] = "kiosk-other"

    with pytest.raises(ValidationError, match="make them equal"):
        KioskConfig.model_validate(data)


def test_two_stores_cannot_share_a_file(tmp_path: Path, issuer: SimIssuer) -> None:
    data = config(tmp_path, issuer).model_dump()
    data["tickets"]["book_path"] = data["booking"]["ledger_path"]

    with pytest.raises(ValidationError, match="same file"):
        KioskConfig.model_validate(data)


@pytest.mark.parametrize(
    ("table", "values", "message"),
    [
        ("printer", {"transport": "usb", "target": "epson"}, "vendor:product"),
        ("printer", {"transport": "network", "target": ""}, "needs printer.target"),
        ("camera", {"source": "folder"}, "needs camera.folder"),
        ("tickets", {"class_letters": {"online": "A", "collective": "A"}}, "must differ"),
        ("thermometer", {"threshold_c": 35.0}, "greater than or equal to 36"),
        ("camera", {"fps": 30}, "Extra inputs"),
    ],
)
def test_bad_values_are_refused_with_what_to_do(
    tmp_path: Path, issuer: SimIssuer, table: str, values: dict[str, Any], message: str
) -> None:
    data = config(tmp_path, issuer).model_dump()
    data[table] = {**data[table], **values}

    with pytest.raises(ValidationError, match=message):
        KioskConfig.model_validate(data)


def test_the_event_log_refuses_a_payload_off_its_schema() -> None:
    log = EventLog()

    with pytest.raises(MessageError):
        log.record("kiosk.checkin.refused", {"stage": "booking"})
    assert log.events == []
