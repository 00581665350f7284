"""The config schema: whole-file checks that teach, and the shipped example."""

from __future__ import annotations

from pathlib import Path

import pytest

from configkit import ConfigError, load, parse
from dropbox_agent.__main__ import main
from dropbox_agent.config import DropboxConfig
from dropbox_agent.domain.model import Input
from tests.dropbox_agent.conftest import config_data

EXAMPLE = Path(__file__).parents[2] / "dropbox_agent" / "examples" / "dropbox.toml"


def _problems(tmp_path: Path, **changes: dict[str, object]) -> str:
    data = config_data(tmp_path)
    for section, values in changes.items():
        data[section] = {**data[section], **values}
    with pytest.raises(ConfigError) as caught:
        parse(DropboxConfig, data, source="box.toml")
    return str(caught.value)


def test_the_shipped_example_is_valid_and_maps_to_machine_settings() -> None:
    config = load(DropboxConfig, EXAMPLE)
    settings = config.machine_settings()
    assert settings.debounce_s[Input.BEAM] == pytest.approx(0.005)
    assert settings.has_key_switch and settings.has_printer and settings.uv_enabled
    assert [o.officer_id for o in config.collection.officer_list()] == ["ofc-0042"]


def test_a_pin_used_twice_is_named_with_both_functions(tmp_path: Path) -> None:
    text = _problems(tmp_path, pins={"door": 17})
    assert "GPIO17 is used by beam and door" in text
    assert text.startswith("box.toml: pins")


def test_pins_outside_the_header_and_half_a_fill_sensor_are_refused(tmp_path: Path) -> None:
    assert "use a BCM GPIO number from 2 to 27" in _problems(tmp_path, pins={"buzzer": 40})
    assert "fill_trigger and pins.fill_echo" in _problems(tmp_path, pins={"fill_echo": None})


def test_enabled_hardware_needs_its_pins(tmp_path: Path) -> None:
    text = _problems(tmp_path, pins={"uv_relay": None})
    assert "uv.enabled = true needs pins.uv_relay" in text


def test_a_box_nobody_can_open_is_refused(tmp_path: Path) -> None:
    text = _problems(tmp_path, pins={"key_switch": None}, collection={"officers": []})
    assert "nobody can collect" in text


def test_plain_secrets_and_bad_time_zones_are_refused(tmp_path: Path) -> None:
    text = _problems(
        tmp_path,
        collection={"officers": [{"officer_id": "ofc-1", "pin_hash": "2468"}]},
    )
    assert "dropbox-agent hash-secret" in text
    data = config_data(tmp_path)
    data["timezone"] = "Asia/Bandung"
    with pytest.raises(ConfigError, match="unknown time zone"):
        parse(DropboxConfig, data)


def test_unknown_keys_are_refused_with_their_path(tmp_path: Path) -> None:
    assert "timings.debounce_ms" in _problems(tmp_path, timings={"debounce_ms": 5})


def test_config_check_exits_0_for_the_example_and_2_for_a_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "check", str(EXAMPLE)]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text().replace("door = 27", "door = 17"))
    assert main(["config", "check", str(bad)]) == 2
    assert "GPIO17 is used by beam and door" in capsys.readouterr().err
