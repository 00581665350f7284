"""One install layout: provisioning, the example configs, the systemd units, the CLIs' defaults
and the docs agree on /etc/lapak (config, keys) and /var/lib/lapak (data)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from configkit import layout
from provisioning import render, roles
from provisioning.device import Layout
from uplink import UplinkConfig
from uplink.config import BrokerConfig

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(ROOT.glob("*/examples/*.toml"))
DEVICE = Layout(Path("/"))
ROLE_OF = {"kiosk": "kiosk", "kiosk-simulated": "kiosk", "dropbox": "dropbox"}
ALLOWED = ("/etc/lapak/", "/var/lib/lapak/", "/dev/", "/opt/lapak/")


def paths_in(data: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """(key, value) of every absolute path in a TOML document."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from paths_in(v, f"{key}.{k}" if key else k)
    elif isinstance(data, list):
        for v in data:
            yield from paths_in(v, key)
    elif isinstance(data, str) and data.startswith("/"):
        yield key, data


def provisioned(role: str) -> dict[str, Any]:
    """The config `provision device init` writes for `role` on a real device (root /)."""
    state = DEVICE.state_dir(role)
    uplink = UplinkConfig(
        device_id=f"jakarta-salemba-{role}-1",
        broker=BrokerConfig(
            host="broker.example",
            ca_file=DEVICE.ca_file,
            cert_file=DEVICE.cert_file,
            key_file=DEVICE.key_file,
        ),
        outbox_path=state / "outbox.db",
    )
    setup = roles.Setup(
        uplink.device_id,
        "jakarta-salemba",
        uplink,
        state,
        DEVICE.etc,
        "https://backoffice.example/api",
        {"trust_anchors": ["A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="]},
    )
    config = roles.build_config(role, setup)
    return config.model_dump(mode="json")


def test_there_are_examples_for_every_role() -> None:
    names = {p.stem for p in EXAMPLES}
    assert {"kiosk", "kiosk-simulated", "dropbox"} <= names


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_paths_are_the_provisioned_layout(example: Path) -> None:
    """Every path in an example is under the layout, and the ones provisioning writes are the
    very paths it writes on a device."""
    data = tomllib.loads(example.read_text(encoding="utf-8"))
    paths = dict(paths_in(data))
    assert paths, f"{example} names no paths"
    for key, value in paths.items():
        assert value.startswith(ALLOWED), f"{example.name}: {key} = {value} is off the layout"
    role = ROLE_OF.get(example.stem)
    if role is None:
        return
    written = dict(paths_in(provisioned(role)))
    shared = set(written) & set(paths)
    assert {"uplink.outbox_path", "uplink.broker.ca_file", "uplink.broker.key_file"} <= shared
    assert {k: paths[k] for k in shared} == {k: written[k] for k in shared}


@pytest.mark.parametrize("role", ["kiosk", "dropbox", "backoffice"])
def test_units_run_the_layout_config_and_keep_state_in_it(role: str, tmp_path: Path) -> None:
    target = render.Target(tmp_path)
    [unit] = [
        e
        for e in render.plan(role, target, render.RenderOptions())
        if e.path == render.UNIT_DIR / f"lapak-{role}.service"
    ]
    assert f"--config {layout.config_file(role)}" in unit.content
    assert render.config_path(role) == PurePosixPath(layout.config_file(role))
    assert DEVICE.config_file(role) == layout.config_file(role)
    state = re.search(r"^StateDirectory=(\S+)$", unit.content, re.MULTILINE)
    assert state is not None
    assert PurePosixPath("/var/lib") / state.group(1) == PurePosixPath(layout.state_dir(role))


def _help(main: Callable[[Sequence[str]], int], argv: list[str], capsys: Any) -> str:
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    return " ".join(str(capsys.readouterr().out).split())


def test_every_tool_finds_its_config_on_a_device_without_a_flag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from backoffice.__main__ import main as backoffice
    from dropbox_agent.__main__ import main as dropbox_agent
    from kiosk.__main__ import main as kiosk
    from kiosk.booking.cli import DEFAULT_CONFIG

    assert DEFAULT_CONFIG == layout.config_file("kiosk")  # `kiosk verify TOKEN`
    cases: list[tuple[Callable[[Sequence[str]], int], list[str], str]] = [
        (kiosk, ["run"], "kiosk"),
        (kiosk, ["verify", "x"], "kiosk"),
        (dropbox_agent, ["run"], "dropbox"),
        (dropbox_agent, ["simulate"], "dropbox"),
        (dropbox_agent, ["replay"], "dropbox"),
        (backoffice, ["receive"], "backoffice"),
        (backoffice, ["watch"], "backoffice"),
        (backoffice, ["collection-count"], "backoffice"),
        (backoffice, ["occupancy"], "backoffice"),
        (backoffice, ["api"], "booking"),
        (backoffice, ["booking", "issue"], "booking"),
    ]
    for main, argv, name in cases:
        text = _help(main, argv, capsys)
        assert str(layout.config_file(name)) in text, f"{argv}: {text}"


def test_docs_and_examples_name_no_other_layout() -> None:
    stale = re.compile(r"/etc/lapak-asik|/var/lib/lapak-asik|/etc/lapak/tls|/pki/\w+\.pem")
    files = [*ROOT.glob("docs/*.md"), ROOT / "README.md", *EXAMPLES]
    offenders = [
        f"{f.relative_to(ROOT)}:{n}: {line.strip()}"
        for f in files
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
        if stale.search(line)
    ]
    assert offenders == []
