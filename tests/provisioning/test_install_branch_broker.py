"""The branch broker is installed like a device, in one command (issue 15: each branch took
about 5 more commands for its broker, and the docs did not say which machine runs it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509

from tests.provisioning.helpers import provision

ROOT = Path(__file__).resolve().parents[2]


def test_one_command_installs_the_branch_broker_bridged_to_head_office(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN the fleet CA and the project's wheel
    WHEN `provision install --role branch-broker` is rehearsed into a folder, as the doc says
    THEN mosquitto is to be installed and enabled, its certificate names the server name the
    devices use, its config listens with TLS and bridges to head office as the branch's bridge,
    and the doc names this command."""
    ca, root, wheel = tmp_path / "ca", tmp_path / "root", tmp_path / "lapak.whl"
    wheel.write_bytes(b"")
    assert provision(capsys, "ca", "init", "--dir", ca).code == 0
    run = provision(
        capsys, "install", "--role", "branch-broker", "--root", root, "--branch",
        "jakarta-salemba", "--ca", ca, "--server-name", "broker.jakarta-salemba.lan",
        "--central-host", "mqtt.example", "--wheel", wheel, "--no-reboot",
    )  # fmt: skip
    assert run.code == 0, run.err
    assert "apt-get install -y --no-install-recommends mosquitto" in run.out
    assert "enable mosquitto.service" in run.out
    assert "branch-broker installed into" in run.out
    conf = (root / "etc/mosquitto/mosquitto.conf").read_text(encoding="utf-8")
    assert "listener 8883" in conf and "require_certificate true" in conf
    assert "address mqtt.example:8883" in conf and "bridge-jakarta-salemba" in conf
    server = x509.load_pem_x509_certificate((root / "etc/mosquitto/lapak/server.crt").read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "broker.jakarta-salemba.lan" in names.get_values_for_type(x509.DNSName)
    bridge = x509.load_pem_x509_certificate((root / "etc/mosquitto/lapak/bridge.crt").read_bytes())
    cn = bridge.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert cn == "bridge-jakarta-salemba"  # issued by the same command: no `provision key`
    doc = (ROOT / "docs/install-pi.md").read_text(encoding="utf-8")
    assert "--role branch-broker --server-name broker.jakarta-salemba.lan" in doc
