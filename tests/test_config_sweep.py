"""Every value `config check` accepts, started for real: each of the four tools either runs or
stops with one clear line (exit 2 for configuration, 1 for runtime), never a traceback.

The values come from the config models themselves (`tests/config_sweep.py`): a field added to a
model is swept by the next run. Each tool starts as systemd starts it (`kiosk run`,
`dropbox-agent run` on gpiozero's mock pins, `backoffice receive`, `backoffice api`), against a
broker of its own with throwaway keys, several starts at a time.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

from backoffice.__main__ import main as backoffice
from backoffice.bookings.config import BookingsConfig
from backoffice.config import BackofficeConfig
from branchsim.broker import LocalBroker
from configkit import dump_toml
from dropbox_agent.__main__ import main as dropbox_agent
from dropbox_agent.config import DropboxConfig
from kiosk.__main__ import main as kiosk
from kiosk.config import KioskConfig
from kiosk.sim.bookings import SimIssuer
from kiosk.sim.demo import DEMO_KIOSK, demo_config
from provisioning.registry import write as write_registry
from tests.config_sweep import Case, Outcome, Run, UnsweptField, start_all, sweep_cases
from tests.config_sweep import set_key as with_value
from tests.dropbox_agent.conftest import config_data as dropbox_data
from uplink import BrokerConfig
from uplink.registry import DeviceRegistry


@dataclass(frozen=True)
class Tool:
    """How to make a valid config of a tool, check one, and start the tool with it."""

    name: str
    model: type[BaseModel]
    base: Callable[[Path], dict[str, Any]]
    check: Callable[[list[str]], int]
    check_argv: Callable[[Path], list[str]]
    program: str
    run_argv: Callable[[Path], list[str]]
    env: Mapping[str, str]
    # With no READY=1 by then it runs: kiosk and dropbox say READY=1 once started, whatever
    # their broker does; the receiver only once subscribed, the booking API never.
    start_s: float = 30.0
    says_ready: bool = True


@pytest.fixture(scope="module")
def sweep_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """A broker of the sweep's own: hundreds of starts and kills leave the shared one alone."""
    instance = LocalBroker(tmp_path_factory.mktemp("sweep-broker"))
    instance.start()
    yield instance
    instance.stop()


def plain(value: Any) -> Any:
    """A config model as TOML-ready data: paths and secrets as strings, None left out."""
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        items = ((name, getattr(value, name)) for name in fields)
        return {name: plain(item) for name, item in items if item is not None}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value


def tools(broker: LocalBroker) -> dict[str, Tool]:
    issuer = SimIssuer()
    clients: dict[str, BrokerConfig] = {}

    def client(name: str) -> BrokerConfig:
        if name not in clients:
            clients[name] = broker.client_config(name)
        return clients[name]

    def own_id(folder: Path, stem: str) -> str:
        # Each start its own identity: starts sharing one would take over each other's session.
        return f"{stem}-{folder.name.removeprefix('case-').lstrip('0') or '0'}"

    def kiosk_base(folder: Path) -> dict[str, Any]:
        (folder / "frames").mkdir(parents=True, exist_ok=True)
        kiosk_id = own_id(folder, DEMO_KIOSK)
        config = demo_config(
            folder / "kiosk",
            issuer,
            kiosk_id=kiosk_id,
            broker=client(kiosk_id).model_dump(),
            camera={"source": "folder", "folder": folder / "frames"},
        )
        return dict(plain(config))

    def dropbox_base(folder: Path) -> dict[str, Any]:
        box_id = own_id(folder, "jakarta-salemba-dropbox")
        data = dropbox_data(folder, broker=client(box_id).model_dump())
        data["uplink"]["device_id"] = data["box_id"] = box_id
        data["printer"] = {"enabled": True, "transport": "simulated"}
        data["collection"]["key_officer_id"] = "pemegang-kunci"
        return dict(plain(DropboxConfig.model_validate(data)))

    def receiver_base(folder: Path) -> dict[str, Any]:
        config = BackofficeConfig(broker=client("backoffice"), database_path=folder / "events.db")
        return dict(plain(config))

    def api_base(folder: Path) -> dict[str, Any]:
        server = client("booking-api")
        folder.mkdir(parents=True, exist_ok=True)
        write_registry(folder / "registry.toml", DeviceRegistry(devices=[]))
        config = BookingsConfig.model_validate(
            {
                "database_path": folder / "bookings.db",
                "keys_dir": folder / "keys",
                "event_store_path": folder / "events.db",
                "device_registry_path": folder / "registry.toml",
                "api": {
                    "port": 0,
                    "tls_cert_file": server.cert_file,
                    "tls_key_file": server.key_file,
                    "client_ca_file": server.ca_file,
                },
            }
        )
        return dict(plain(config))

    def config_check(path: Path) -> list[str]:
        return ["config", "check", str(path)]

    return {
        "kiosk": Tool(
            "kiosk",
            KioskConfig,
            kiosk_base,
            kiosk,
            config_check,
            "kiosk",
            lambda path: ["run", "--config", str(path)],
            {},
        ),
        "dropbox-agent": Tool(
            "dropbox-agent",
            DropboxConfig,
            dropbox_base,
            dropbox_agent,
            config_check,
            "dropbox-agent",
            lambda path: ["run", "--config", str(path)],
            {"GPIOZERO_PIN_FACTORY": "mock"},
        ),
        "backoffice receive": Tool(
            "backoffice receive",
            BackofficeConfig,
            receiver_base,
            backoffice,
            config_check,
            "backoffice",
            lambda path: ["receive", "--config", str(path)],
            {},
            start_s=6.0,
            says_ready=False,
        ),
        "backoffice api": Tool(
            "backoffice api",
            BookingsConfig,
            api_base,
            backoffice,
            config_check,
            "backoffice",
            lambda path: ["api", "--config", str(path)],
            {},
            start_s=1.5,
            says_ready=False,
        ),
    }


def accepted_by_config_check(tool: Tool, path: Path) -> bool:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = tool.check(tool.check_argv(path))
    assert "Traceback" not in err.getvalue(), err.getvalue()
    assert code in (0, 2), (code, err.getvalue())
    return code == 0


def materialize(tool: Tool, case: Case | None, folder: Path) -> Path:
    folder.mkdir(parents=True)
    data = tool.base(folder)
    if case is not None:
        data = with_value(data, case.key, case.resolve(folder))
    path = folder / "config.toml"
    path.write_text(dump_toml(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["kiosk", "dropbox-agent", "backoffice receive", "backoffice api"])
def test_every_value_config_check_accepts_starts_or_is_refused_in_one_line(
    tmp_path: Path, sweep_broker: LocalBroker, name: str
) -> None:
    """GIVEN each field of the tool's config set, one at a time, to the extremes its type allows
    WHEN `config check` accepts the file and the tool is started with it for real
    THEN the tool runs (until SIGTERM, then exits 0) or exits by itself with 1 or 2 and one
    line on stderr; never a traceback."""
    began = time.monotonic()
    tool = tools(sweep_broker)[name]
    cases = sweep_cases(tool.model, tool.base(tmp_path / "base"))
    runs: list[Run] = []
    refused_by_check = 0
    for index, case in enumerate([None, *cases]):
        folder = tmp_path / f"case-{index:04d}"
        path = materialize(tool, case, folder)
        label = "base config" if case is None else case.name
        if accepted_by_config_check(tool, path):
            runs.append(Run(tool.program, tool.run_argv(path), folder, label))
        else:
            assert case is not None, "the base config must pass config check"
            refused_by_check += 1
    parallel = int(os.environ.get("SWEEP_PARALLEL", "12"))
    outcomes = start_all(
        runs, env=tool.env, parallel=parallel, start_s=tool.start_s, says_ready=tool.says_ready
    )
    kinds = Counter(outcome.kind for outcome in outcomes)
    base = next(o for o in outcomes if o.run.label == "base config")
    tally = {
        "tool": name,
        "values_swept": len(cases),
        "refused_by_config_check": refused_by_check,
        "accepted": len(runs) - 1,
        "ran": kinds["ran"] - (base.kind == "ran"),
        "refused_in_one_line": kinds["refused"],
        "tracebacks": kinds["traceback"],
        "other_failures": kinds["bad"],
        "slowest_stop_s": max((o.stop_s or 0.0 for o in outcomes), default=0.0),
        "seconds": round(time.monotonic() - began, 1),
    }
    print(json.dumps(tally))
    report = tmp_path.parent / f"sweep-{name.replace(' ', '-')}.txt"
    report.write_text("\n".join(describe(o) for o in outcomes) + "\n", encoding="utf-8")
    assert base.kind == "ran", describe(base)
    broken = [describe(o) for o in outcomes if o.kind in ("traceback", "bad")]
    assert not broken, f"{len(broken)} of {len(outcomes)} starts:\n" + "\n\n".join(broken)
    for outcome in outcomes:
        if outcome.kind == "refused":
            assert len(outcome.detail) >= 20, describe(outcome)


def describe(outcome: Outcome) -> str:
    ready = "ready" if outcome.ready else "not ready"
    stop = f", stopped in {outcome.stop_s:g} s" if outcome.stop_s is not None else ""
    return (
        f"{outcome.run.label}: {outcome.kind} (exit {outcome.exit_code}, {ready}{stop})"
        f" {outcome.detail}".rstrip()
    )


@pytest.mark.parametrize("model", [KioskConfig, DropboxConfig, BackofficeConfig, BookingsConfig])
def test_the_sweep_knows_every_field_type(model: type[BaseModel], tmp_path: Path) -> None:
    """A field of a type without sweep values fails here, naming itself, instead of being
    skipped: a new field is swept, or the sweep is taught its type."""
    cases = sweep_cases(model, {}, strict=False)
    assert cases
    keys = {case.key[0] for case in cases}
    assert keys == set(model.model_fields), set(model.model_fields) - keys


def test_a_field_of_an_unknown_type_is_named() -> None:
    from configkit import ConfigModel

    class Odd(ConfigModel):
        when: complex = 1j

    with pytest.raises(UnsweptField, match="when: no sweep values"):
        sweep_cases(Odd, {})


def test_a_table_array_without_an_element_in_the_base_is_named() -> None:
    """Its elements' fields would go unswept: the base config must give one."""
    with pytest.raises(UnsweptField, match=r"collection\.officers: the base config has no element"):
        sweep_cases(DropboxConfig, {"collection": {"officers": []}})
