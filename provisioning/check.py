"""`provision check`: the device self-test, as small checks behind one protocol."""

from __future__ import annotations

import difflib
import logging
import os
import socket
import ssl
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import paho.mqtt.client as mqtt
import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

from configkit.expiry import Due, assess, assess_crl
from provisioning import expiry, pki
from uplink import Clock, Uplink, UplinkConfig
from uplink.config import BrokerConfig
from uplink.session import connect_properties

logger = logging.getLogger(__name__)

Status = Literal["pass", "warn", "fail", "skip"]
"""A warning (something runs out within 30 days) does not fail the self-test."""


@dataclass(frozen=True)
class Outcome:
    """The result of one check: what was seen and, on failure, what to do about it."""

    status: Status
    detail: str
    fix: str = ""

    @classmethod
    def ok(cls, detail: str) -> Outcome:
        return cls("pass", detail)

    @classmethod
    def fail(cls, detail: str, fix: str) -> Outcome:
        return cls("fail", detail, fix)

    @classmethod
    def skip(cls, detail: str) -> Outcome:
        return cls("skip", detail)

    @classmethod
    def warn(cls, detail: str, fix: str) -> Outcome:
        return cls("warn", detail, fix)


class Usable(Protocol):
    """What every adapter of the apps can say about itself."""

    def is_usable(self) -> tuple[bool, str]: ...


@dataclass
class Hardware:
    """A role's adapters by name ("camera", "thermometer", "printer", "gpio"...).

    `probes` are the functional tests of each adapter (frame, decode, reading, ticket, inputs),
    written in `provisioning.hardware` because they speak each app's port; `devices` are the
    devices they test, built by the app's own wiring (`kiosk.devices`, `dropbox_agent.devices`).
    `close` releases the devices.
    """

    adapters: dict[str, Usable] = field(default_factory=dict)
    probes: list[Check] = field(default_factory=list)
    close: Callable[[], None] = lambda: None
    devices: dict[str, object] = field(default_factory=dict)


@dataclass
class CheckContext:
    """What checks can look at. Built by `provision check` from the device's files."""

    role: str
    device_id: str
    uplink: UplinkConfig
    broker: BrokerConfig  # the broker to test against (the simulated branch's when simulating)
    clock: Clock
    hardware: Hardware
    api_url: str | None = None
    branch: str | None = None  # the device's branch (device.toml), compared with the back office's
    simulate: bool = False
    timeout_s: float = 10.0
    crl_file: Path | None = None  # the CRL the brokers load, when it is on this machine
    facts: dict[str, Any] = field(default_factory=dict)


class Check(Protocol):
    """One row of the self-test table."""

    @property
    def name(self) -> str:
        """Short id, as used by `--fail`."""
        ...

    @property
    def title(self) -> str:
        """What the table shows."""
        ...

    def __call__(self, ctx: CheckContext) -> Outcome: ...


@dataclass(frozen=True)
class FunctionCheck:
    """A check made from a small function."""

    name: str
    title: str
    fn: Callable[[CheckContext], Outcome]

    def __call__(self, ctx: CheckContext) -> Outcome:
        return self.fn(ctx)


def check(name: str, title: str) -> Callable[[Callable[[CheckContext], Outcome]], FunctionCheck]:
    """Decorator: turn `fn(ctx) -> Outcome` into a named check."""

    def wrap(fn: Callable[[CheckContext], Outcome]) -> FunctionCheck:
        return FunctionCheck(name, title, fn)

    return wrap


@dataclass(frozen=True)
class Result:
    """One row of the table."""

    name: str
    title: str
    outcome: Outcome


def run(
    checks: Iterable[Check],
    ctx: CheckContext,
    on_start: Callable[[Check], None] = lambda _c: None,
) -> list[Result]:
    """Run every check in order; a check that raises is a failure, never the end of the run."""
    results = []
    for item in checks:
        on_start(item)
        try:
            outcome = item(ctx)
        except Exception as exc:  # one broken check must not hide the others
            logger.exception("check %s raised", item.name)
            outcome = Outcome.fail(
                f"unexpected error: {type(exc).__name__}: {exc}",
                "see the log above (provision -v check) and report it",
            )
        results.append(Result(item.name, item.title, outcome))
    return results


def plan(ctx: CheckContext) -> list[Check]:
    """The checks for this device: its adapters, their probes, then clock and network."""
    checks: list[Check] = [_usable_check(name) for name in ctx.hardware.adapters]
    checks += ctx.hardware.probes
    checks += [identity, certificates_expiry, clock_synced, data_dir]
    checks += [broker_tls, broker_certificate, backoffice_ack, backend_api, branch_agrees]
    checks += [crl_next_update]
    return checks


# -- adapters ----------------------------------------------------------------------------------


def _usable_check(name: str) -> FunctionCheck:
    def usable(ctx: CheckContext) -> Outcome:
        ok, why = ctx.hardware.adapters[name].is_usable()
        if ok:
            return Outcome.ok(why or "usable")
        return Outcome.fail(why, f"see docs/hardware.md ({name}): wiring, power and drivers")

    return FunctionCheck(f"{name}-usable", f"{name}: adapter usable", usable)


# -- device, clock and network -----------------------------------------------------------------


@check("identity", "device certificate and key")
def identity(ctx: CheckContext) -> Outcome:
    """The key is private (0600), the certificate certifies it, names this device and is valid."""
    b = ctx.uplink.broker
    if not b.tls or b.cert_file is None or b.key_file is None or b.ca_file is None:
        return Outcome.fail(
            "no TLS identity configured", "run `provision device init` with a CA or a CSR flow"
        )
    for path in (b.ca_file, b.cert_file, b.key_file):
        if not path.exists():
            return Outcome.fail(
                f"{path} is missing",
                "install the signed certificate: `provision device install-cert --cert FILE "
                "--ca-cert FILE`",
            )
    # The same file checks as `config check` and every tool's start (uplink.config): here a
    # key others can read fails the self-test instead of warning. (Its errors are told more
    # precisely by the checks below.)
    for _key, value, message, severity in b.file_problems():
        if severity == "warning":
            what, _, fix = message.partition("; ")
            return Outcome.fail(f"{value}: {what}", fix)
    cert = pki.load_cert(b.cert_file)
    if not pki.same_public_key(cert, pki.load_key(b.key_file)):
        return Outcome.fail(
            "the certificate does not match this device's key",
            "install the certificate signed for this device's CSR",
        )
    name = pki.common_name(cert.subject)
    if name != ctx.device_id:
        return Outcome.fail(
            f"the certificate is for {name!r}, this device is {ctx.device_id!r}",
            "install the certificate issued for this device id",
        )
    now = ctx.clock.now()
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        return Outcome.fail(
            f"the certificate is valid {cert.not_valid_before_utc:%Y-%m-%d} to "
            f"{cert.not_valid_after_utc:%Y-%m-%d}, not now",
            "check the clock, or rotate: `provision device rotate`",
        )
    try:
        cert.verify_directly_issued_by(pki.load_cert(b.ca_file))
    except (ValueError, TypeError, InvalidSignature) as exc:
        return Outcome.fail(
            f"the certificate was not signed by {b.ca_file} ({exc})",
            "install the CA certificate that signed this device",
        )
    days = (cert.not_valid_after_utc - now).days
    return Outcome.ok(f"CN {name}, key 0600, valid {days} more days")


# -- what runs out: certificates and the CRL --------------------------------------------------


def _from(dues: list[Due]) -> Outcome:
    """One outcome for several dated things: the worst status, every detail, the fixes due."""
    order: tuple[Status, ...] = ("fail", "warn", "pass")
    worst = next(status for status in order if any(d.status == status for d in dues))
    detail = "; ".join(d.detail for d in dues)
    fix = "; ".join(d.fix for d in dues if d.status != "pass")
    return Outcome(worst, detail, fix)


@check("cert-expiry", "device and CA certificates not expiring")
def certificates_expiry(ctx: CheckContext) -> Outcome:
    """The device's certificate and the CA's: a warning 30 days ahead, a failure once past."""
    b = ctx.uplink.broker
    if not b.tls or b.cert_file is None or b.ca_file is None:
        return Outcome.skip("no TLS identity configured (see the identity check)")
    try:
        device, authority = pki.load_cert(b.cert_file), pki.load_cert(b.ca_file)
    except pki.PkiError as exc:
        return Outcome.fail(str(exc), "see the identity check above")
    now = ctx.clock.now()
    return _from(
        [
            assess("device certificate", device.not_valid_after_utc, now, expiry.RENEW_DEVICE),
            assess("CA certificate", authority.not_valid_after_utc, now, expiry.RENEW_CA),
        ]
    )


@check("broker-cert", "broker certificate not expiring")
def broker_certificate(ctx: CheckContext) -> Outcome:
    """The certificate the broker presents (read even when it no longer verifies)."""
    broker = ctx.broker
    where = f"{broker.host}:{broker.port}"
    if not broker.tls:
        return Outcome.skip(f"{where} is configured without TLS")
    try:
        cert = server_certificate(broker, ctx.timeout_s)
    except (OSError, ValueError) as exc:
        return Outcome.skip(f"{where}: no certificate read ({exc}); see the broker check")
    name = pki.common_name(cert.subject) or "?"
    due = assess(
        f"broker certificate ({name})",
        cert.not_valid_after_utc,
        ctx.clock.now(),
        expiry.RENEW_BROKER,
    )
    return Outcome(due.status, due.detail, due.fix)


def server_certificate(broker: BrokerConfig, timeout_s: float) -> x509.Certificate:
    """The certificate a TLS server presents, without verifying it (to say when it ends).

    Raises:
        OSError: no connection or TLS handshake (ssl.SSLError is an OSError).
        ValueError: the server sent no certificate.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # read only: an expired certificate must still be seen
    if broker.cert_file is not None and broker.key_file is not None:
        context.load_cert_chain(str(broker.cert_file), str(broker.key_file))
    with (
        socket.create_connection((broker.host, broker.port), timeout=timeout_s) as raw,
        context.wrap_socket(raw, server_hostname=broker.host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise ValueError("the server sent no certificate")
    return x509.load_der_x509_certificate(der)


@check("crl", "CRL not past its next update")
def crl_next_update(ctx: CheckContext) -> Outcome:
    """The revocation list the brokers load: past its next update, a restarted broker refuses
    every device; warned 30 days ahead."""
    if ctx.crl_file is None:
        return Outcome.skip(
            "no CRL on this machine (the brokers hold it): check a copy with --crl FILE, "
            "e.g. --crl /mnt/lapak-ca/crl.pem from the CA stick"
        )
    try:
        crl = pki.load_crl(ctx.crl_file)
    except pki.PkiError as exc:
        return Outcome.fail(str(exc), "copy crl.pem from the CA directory: " + expiry.RENEW_CRL)
    next_update = crl.next_update_utc
    if next_update is None:
        return Outcome.fail(f"{ctx.crl_file} has no next update", expiry.RENEW_CRL)
    due = assess_crl(f"CRL {ctx.crl_file}", next_update, ctx.clock.now(), expiry.RENEW_CRL)
    return Outcome(due.status, due.detail, due.fix)


@check("clock", "clock synchronized")
def clock_synced(ctx: CheckContext) -> Outcome:
    if not ctx.clock.synced():
        return Outcome.fail(
            "the clock has not been synchronized since boot",
            "connect the network and check `timedatectl timesync-status` (NTP, UDP port 123)",
        )
    return Outcome.ok(f"synchronized, {ctx.clock.now():%Y-%m-%d %H:%M} UTC")


@check("data-dir", "outbox directory writable")
def data_dir(ctx: CheckContext) -> Outcome:
    directory = ctx.uplink.outbox_path.parent
    if not directory.is_dir():
        return Outcome.fail(
            f"{directory} does not exist",
            "mount the data partition (var-lib-lapak.mount) or re-run `provision device init`",
        )
    if not os.access(directory, os.W_OK):
        return Outcome.fail(f"{directory} is not writable", f"check the owner of {directory}")
    usage = os.statvfs(directory)
    free_mb = usage.f_bavail * usage.f_frsize / 2**20
    if free_mb < 64:
        return Outcome.fail(f"only {free_mb:.0f} MiB free in {directory}", "free some space")
    return Outcome.ok(f"{directory}, {free_mb:,.0f} MiB free")


@check("broker", "broker reachable over TLS with this certificate")
def broker_tls(ctx: CheckContext) -> Outcome:
    broker = ctx.broker
    where = f"{broker.host}:{broker.port}"
    if not broker.tls:
        return Outcome.fail(
            f"{where} is configured without TLS",
            "re-run `provision device init` with TLS (plain MQTT is for loopback tests only)",
        )
    reason = mqtt_connect(ctx.device_id, broker, ctx.timeout_s)
    if reason is None:
        ctx.facts["broker_ok"] = True
        return Outcome.ok(f"{where}: TLS handshake and CONNACK accepted as {ctx.device_id}")
    return Outcome.fail(f"{where}: {reason}", _BROKER_FIX)


_BROKER_FIX = (
    "check the broker host and port in the config, the network, and that the broker's CA "
    "signed this device (and has not revoked it: `provision ca list`)"
)


def mqtt_connect(device_id: str, broker: BrokerConfig, timeout_s: float) -> str | None:
    """Connect once with the device's certificate; None when the broker accepted, else why not.

    The broker names every session after the certificate (use_username_as_clientid), so this is
    the device's own session: resume it (clean_start False) with the uplink's default expiry, so
    what the broker queued for the device (acks, a collection count) is kept.
    """
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=device_id, protocol=MQTTProtocolVersion.MQTTv5
    )
    client.tls_set(
        ca_certs=str(broker.ca_file), certfile=str(broker.cert_file), keyfile=str(broker.key_file)
    )
    answered = threading.Event()
    verdict: list[str | None] = []

    def on_connect(_c: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        verdict.append(f"broker refused: {reason}" if reason.is_failure else None)
        answered.set()

    def on_disconnect(_c: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        if not answered.is_set():
            # With TLS 1.3 the broker checks our certificate after the handshake: a refused or
            # revoked certificate shows up as a connection closed before any CONNACK.
            verdict.append(
                "the broker closed the connection before CONNACK: it refused this device's "
                "certificate (revoked, or signed by another CA)"
            )
            answered.set()

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    try:
        client.connect(
            broker.host,
            broker.port,
            keepalive=30,
            clean_start=False,
            properties=connect_properties(UplinkConfig.model_fields["session_expiry_s"].default),
        )
    except ssl.SSLError as exc:
        return f"TLS refused: {exc.reason or exc}"
    except OSError as exc:
        return f"cannot connect: {exc.strerror or exc}"
    client.loop_start()
    try:
        if not answered.wait(timeout_s):
            return f"no CONNACK within {timeout_s:g} s (TLS rejected, or the broker is not MQTT)"
        return verdict[0]
    finally:
        client.disconnect()
        client.loop_stop()


@check("backoffice", "back-office ack received")
def backoffice_ack(ctx: CheckContext) -> Outcome:
    if not ctx.facts.get("broker_ok"):
        return Outcome.fail("not tried: the broker is not reachable", "fix the broker check first")
    config = ctx.uplink.model_copy(update={"broker": ctx.broker, "heartbeat_interval_s": 0})
    if not config.outbox_path.parent.is_dir():
        return Outcome.fail("not tried: no outbox directory", "fix the outbox directory first")
    acked = threading.Event()
    wanted: set[str] = set()
    uplink = Uplink(config, clock=ctx.clock)

    def on_ack(event_ids: list[str]) -> None:
        if wanted.intersection(event_ids):
            acked.set()

    uplink.add_ack_listener(on_ack)
    uplink.start()
    try:
        envelope = uplink.record("device.probe", {"purpose": "self_test"})
        wanted.add(envelope.event_id)
        got = acked.wait(ctx.timeout_s)
    finally:
        uplink.stop()
        _match_owner(config.outbox_path)
    if got:
        return Outcome.ok(f"device.probe {envelope.event_id} stored and acked")
    return Outcome.fail(
        f"no ack for device.probe {envelope.event_id} within {ctx.timeout_s:g} s "
        "(it stays in the outbox and will be delivered later)",
        "check that the back-office receiver runs and that the broker ACL lets it read this "
        "device's events (`provision fleet acl`)",
    )


def _match_owner(outbox: Path) -> None:
    """Give outbox files created by a root-run check to the state directory's owner."""
    if os.geteuid() != 0:
        return
    st = outbox.parent.stat()
    for path in outbox.parent.glob(outbox.name + "*"):
        os.chown(path, st.st_uid, st.st_gid)


@check("api", "backend API reachable")
def backend_api(ctx: CheckContext) -> Outcome:
    if ctx.api_url is None:
        return Outcome.skip(f"the {ctx.role} has no backend API in its config")
    try:
        response = requests.get(ctx.api_url, timeout=(3.05, ctx.timeout_s))
    except requests.RequestException as exc:
        return Outcome.fail(f"{ctx.api_url}: {type(exc).__name__}", _API_FIX)
    if response.status_code >= 500:
        return Outcome.fail(f"{ctx.api_url}: HTTP {response.status_code}", _API_FIX)
    ctx.facts["api_ok"] = True
    return Outcome.ok(f"{ctx.api_url}: HTTP {response.status_code}")


_API_FIX = "check the API URL in the config, DNS and the branch's internet connection"


@check("branch", "branch id known to the back office")
def branch_agrees(ctx: CheckContext) -> Outcome:
    """A kiosk whose branch id differs from the back office's refuses every booking as
    wrong_branch: compare them before the doors open."""
    if ctx.api_url is None or ctx.branch is None:
        return Outcome.skip(f"the {ctx.role} has no backend API in its config")
    if not ctx.facts.get("api_ok"):
        return Outcome.skip("the backend API did not answer (see above)")
    url = ctx.api_url.rstrip("/") + "/v1/branches"
    try:
        response = requests.get(url, timeout=(3.05, ctx.timeout_s))
        served = response.json()["branches"] if response.status_code == 200 else None
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        return Outcome.fail(f"{url}: {type(exc).__name__}", _API_FIX)
    if not isinstance(served, list):
        return Outcome.fail(f"{url}: HTTP {response.status_code}", _API_FIX)
    if ctx.branch in served:
        return Outcome.ok(f"{ctx.branch} is booked by the back office")
    close = difflib.get_close_matches(ctx.branch, [str(b) for b in served], n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return Outcome.fail(
        f"the back office does not book for branch {ctx.branch!r} (it books for "
        f"{len(served)} branches); every booking would be refused as another branch's",
        f"{hint}provision the device again with the back office's branch id: revoke it at the "
        "CA, remove /etc/lapak, then `provision device init --branch ID ...`",
    )


def summary(results: Iterable[Result]) -> Mapping[Status, int]:
    """How many checks passed, warned, failed and were skipped."""
    counts: dict[Status, int] = {"pass": 0, "warn": 0, "fail": 0, "skip": 0}
    for result in results:
        counts[result.outcome.status] += 1
    return counts
