"""The config convention: TOML in, one clear line per problem out, exit code 2, no secrets shown."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import Field, SecretStr

from configkit import (
    ConfigError,
    ConfigModel,
    TimeZoneName,
    check_command,
    check_host,
    check_period,
    dump_toml,
    load,
    parse,
    read_small_file,
    read_toml,
)


class Broker(ConfigModel):
    host: str = Field(description="Broker host name.")
    port: int = Field(8883, ge=1, le=65535, description="TCP port.")
    password: SecretStr | None = Field(None, description="Password (loopback only).")


class App(ConfigModel):
    device_id: str = Field(pattern=r"^[a-z0-9-]+$", description="Device id.")
    heartbeat_interval_s: float = Field(60.0, gt=0, description="Heartbeat period, seconds.")
    broker: Broker


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "app.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_file_loads_into_a_frozen_model(tmp_path: Path) -> None:
    config = load(App, write(tmp_path, 'device_id = "kiosk-1"\n[broker]\nhost = "mqtt.local"\n'))
    assert config.broker.port == 8883
    with pytest.raises(ValueError, match="frozen"):
        config.device_id = "other"  # type: ignore[misc]


def test_each_problem_names_file_key_value_and_fix(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'device_id = "Kiosk 1"\nheartbeat_intervl_s = 5\n[broker]\nport = 0\n',
    )
    with pytest.raises(ConfigError) as caught:
        load(App, path)
    lines = str(caught.value).splitlines()
    assert len(lines) == 4
    assert f"{path}: device_id = 'Kiosk 1': String should match pattern" in lines[0]
    text = "\n".join(lines)
    assert "broker.host: required key is missing; add it" in text
    assert "broker.port = 0: Input should be greater than or equal to 1" in text
    assert (
        "heartbeat_intervl_s = 5: unknown key (did you mean 'heartbeat_interval_s'?); "
        "remove or rename it"
    ) in text


def test_secrets_are_never_printed(tmp_path: Path) -> None:
    path = write(tmp_path, 'device_id = "k"\n[broker]\nhost = "h"\npassword = ["hunter2"]\n')
    with pytest.raises(ConfigError) as caught:
        load(App, path)
    assert "hunter2" not in str(caught.value)
    assert "broker.password = '***'" in str(caught.value)


def test_unreadable_and_malformed_files_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read the file .*; check the path"):
        load(App, tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match=r"not valid TOML: .*; fix the syntax there"):
        load(App, write(tmp_path, "device_id = \n"))


def test_a_device_or_a_huge_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    """GIVEN /dev/zero, a file far larger than any config, or a folder
    WHEN it is read as a config THEN one problem says so at once (/dev/zero was read until
    memory ran out)."""
    huge = tmp_path / "huge.toml"
    huge.write_bytes(b"# " + b"x" * (2 << 20))
    for path, message in [
        (Path("/dev/zero"), "cannot read the file (not a file but a device or a socket)"),
        (huge, "larger than 1 MiB: not a config file; check the path"),
        (tmp_path, "cannot read the file (Is a directory); check the path"),
    ]:
        with pytest.raises(ConfigError) as caught:
            load(App, path)
        assert len(caught.value.problems) == 1 and message in str(caught.value)
        assert str(caught.value).startswith(f"{path}: ")


def test_a_pipe_is_read_and_a_fifo_nobody_writes_to_reads_as_empty(tmp_path: Path) -> None:
    """GIVEN `config check <(...)` (a pipe) THEN it is read like a file; GIVEN a FIFO with no
    writer THEN it reads as empty at once (opening it blocked for ever)."""
    reader, writer = os.pipe()
    os.write(writer, b'device_id = "k"\n[broker]\nhost = "h"\n')
    os.close(writer)
    assert load(App, f"/proc/self/fd/{reader}").broker.host == "h"
    os.close(reader)
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    assert read_small_file(fifo, 100) == b""
    with pytest.raises(ConfigError, match="device_id: required key is missing"):
        load(App, fifo)


def test_read_toml_reads_a_whole_file_and_names_a_bad_byte_s_line(tmp_path: Path) -> None:
    path = tmp_path / "app.toml"
    path.write_bytes(b'a = "' + b"y" * 100_000 + b'"\n# caf\xe9\n')
    with pytest.raises(ConfigError, match=r"not UTF-8 text \(byte 0xe9 on line 2\)"):
        read_toml(path)
    path.write_bytes(b'a = "' + b"y" * 100_000 + b'"\n')
    assert read_toml(path) == {"a": "y" * 100_000}


class Deposit(ConfigModel):
    action: Literal["deposit"] = Field(description="An envelope in.")


class Keypad(ConfigModel):
    action: Literal["keypad"] = Field(description="Keys typed.")
    text: str = Field(description="What was typed.")


class Steps(ConfigModel):
    steps: list[Annotated[Deposit | Keypad, Field(discriminator="action")]] = Field(
        description="What happens."
    )


def test_an_unknown_or_missing_kind_names_its_key_the_kinds_and_the_nearest() -> None:
    """It was pydantic's "Input tag 'depost' found using 'action' does not match any of the
    expected tags: 'deposit', 'keypad'" against the whole table."""
    data = {"steps": [{"action": "depost"}, {"text": "1234"}, {"action": "keypad", "text": "1"}]}
    with pytest.raises(ConfigError) as caught:
        parse(Steps, data, source="day.toml")
    assert [str(p) for p in caught.value.problems] == [
        "day.toml: steps.0.action = 'depost': unknown action (did you mean 'deposit'?); "
        "use one of deposit, keypad",
        "day.toml: steps.1.action: required key is missing; add it",
    ]


def test_check_command_exits_0_or_2_with_one_line_per_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(tmp_path, 'device_id = "k"\n[broker]\nhost = "h"\n')
    assert check_command(App, good) == 0
    assert capsys.readouterr().out.strip() == f"{good}: OK"
    bad = tmp_path / "bad.toml"
    bad.write_text('device_id = "k"\ncolour = 1\n[broker]\n', encoding="utf-8")
    assert check_command(App, bad) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith(f"{bad}: ") for line in err)


def test_dump_toml_round_trips(tmp_path: Path) -> None:
    config = App(device_id="kiosk-2", heartbeat_interval_s=2.5, broker=Broker(host="h", port=1883))
    path = tmp_path / "out.toml"
    path.write_text(dump_toml(config), encoding="utf-8")
    assert load(App, path) == config


class Officer(ConfigModel):
    officer_id: str = Field(description="Officer id.")
    pin_hash: SecretStr | None = Field(None, description="PIN hash.")


class Collection(ConfigModel):
    officers: list[Officer] = Field(default_factory=list, description="Who may collect.")
    key_officer_id: str = Field("key", description="Officer id for the key switch.")


class Box(ConfigModel):
    box_id: str = Field(description="Box id.")
    collection: Collection = Field(default_factory=Collection, description="Collections.")
    broker: Broker


def test_dump_toml_writes_arrays_of_tables(tmp_path: Path) -> None:
    config = Box(
        box_id="dropbox-1",
        collection=Collection(
            officers=[
                Officer(officer_id="ofc-1", pin_hash=SecretStr("h1")),
                Officer(officer_id="ofc-2"),
            ]
        ),
        broker=Broker(host="h"),
    )
    text = dump_toml(config)
    assert text.count("[[collection.officers]]") == 2
    path = tmp_path / "box.toml"
    path.write_text(text, encoding="utf-8")
    assert load(Box, path) == config


class Branch(ConfigModel):
    timezone: TimeZoneName = Field("Asia/Jakarta", description="IANA zone.")


def test_time_zones_are_checked_at_load(tmp_path: Path) -> None:
    assert load(Branch, write(tmp_path, 'timezone = "Asia/Makassar"\n')).timezone == "Asia/Makassar"
    with pytest.raises(ConfigError, match=r"timezone = 'Asia/Bali': .*unknown time zone"):
        load(Branch, write(tmp_path, 'timezone = "Asia/Bali"\n'))


@pytest.mark.parametrize("host", ["broker.example.id", "127.0.0.1", "::1", "localhost", "a-b.c."])
def test_a_host_name_or_address_passes(host: str) -> None:
    assert check_host(host) == host


@pytest.mark.parametrize(
    "host", ["", " ", "a b", "kantor-é.id", "a\nb", "a\x00b", "x" * 64, "-a.id", "a..b"]
)
def test_what_is_not_a_host_is_refused_at_load(host: str) -> None:
    """A broker host paho or the resolver would choke on (a traceback at the first connect)
    is a config problem instead."""
    with pytest.raises(ValueError, match=r"host name or|is empty"):
        check_host(host)


@pytest.mark.parametrize(("value", "ok"), [(0.0, True), (0.1, True), (60.0, True), (5e-324, False)])
def test_a_period_is_off_or_long_enough(value: float, ok: bool) -> None:
    if ok:
        assert check_period(value) == value
    else:
        with pytest.raises(ValueError, match="use 0 to switch it off"):
            check_period(value)


def test_an_empty_path_is_refused_with_its_key() -> None:
    """pydantic reads "" as Path('.'), the working folder; the file check then names a folder."""

    class Store(ConfigModel):
        path: Path = Field(description="A file.")
        spare: Path | None = Field(None, description="Another.")

    class Outer(ConfigModel):
        store: Store
        stores: list[Store] = Field(default_factory=list, description="More.")

    with pytest.raises(ConfigError) as caught:
        parse(Outer, {"store": {"path": ""}, "stores": [{"path": "/a", "spare": ""}]})
    keys = sorted(p.key for p in caught.value.problems)
    assert keys == ["store.path", "stores.0.spare"]
    assert all("is empty" in p.message for p in caught.value.problems)
