"""`provision check` end to end: load the device, pick real or simulated parts, run, print."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol, cast

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from provisioning import check, device, hardware, pki, roles
from provisioning.errors import ProvisionError
from uplink import BrokerConfig, Clock, ManualClock, SystemClock

NETWORK_FAULTS = frozenset({"clock", "broker", "backoffice", "api"})
INJECTABLE = NETWORK_FAULTS | hardware.INJECTABLE

# The simulated branch comes from the `branchsim` package through this entry point, so
# provisioning does not depend on the back office it runs.
SIMULATED_BRANCH_ENTRY_POINT = "lapak.simulated_branch"


class SimulatedNetwork(Protocol):
    """What `--simulate` needs of a simulated branch (`branchsim.SimulatedBranch`)."""

    @property
    def api_url(self) -> str: ...

    def device_broker(self, device: BrokerConfig) -> BrokerConfig: ...


SimulatedBranchFactory = Callable[..., contextlib.AbstractContextManager[SimulatedNetwork]]


def simulated_branch_factory() -> SimulatedBranchFactory:
    """The installed simulated branch: `SimulatedBranch(ca, broker=, backoffice=, api=)`.

    Raises:
        ProvisionError: the `branchsim` package is not installed here.
    """
    found = entry_points(group=SIMULATED_BRANCH_ENTRY_POINT)
    if not found:
        raise ProvisionError(
            "--simulate needs the simulated branch (package branchsim), which is not installed "
            "here; install the project with scripts/setup.sh"
        )
    return cast(SimulatedBranchFactory, next(iter(found)).load())


_MARK = {
    "pass": "[green]PASS[/]",
    "warn": "[bold yellow]WARN[/]",
    "fail": "[bold red]FAIL[/]",
    "skip": "[yellow]skip[/]",
}
BROKER_CRL = Path("etc/mosquitto/lapak/crl.pem")
"""Where a rendered broker keeps its CRL, under the machine's root."""


def run_self_test(
    layout: device.Layout,
    *,
    simulate: bool,
    ca_dir: Path | None,
    inject: frozenset[str],
    timeout_s: float,
    console: Console,
    crl_file: Path | None = None,
) -> list[check.Result]:
    """Run every check for the device under `layout` and print the table and the fixes.

    The CRL checked is `crl_file`, else the simulated branch's CA's, else a broker's rendered
    under the same root; with none of them the CRL check is skipped (it lives on the brokers).
    """
    record = device.load_record(layout)
    config = roles.load_config(record)
    uplink = roles.uplink_of(config)
    with _branch(simulate, ca_dir, inject) as branch:
        if branch is not None:
            # An injected broker fault leaves the simulated broker stopped: its port is closed.
            broker = branch.device_broker(uplink.broker)
            api_url: str | None = branch.api_url if roles.api_url_of(config) else None
            clock: Clock = (
                ManualClock(dt.datetime.now(dt.UTC), synced=False)
                if "clock" in inject
                else SystemClock(assume_synced=True)
            )
        else:
            broker, api_url, clock = uplink.broker, roles.api_url_of(config), SystemClock()
        with console.status("opening the hardware"):
            parts = hardware.build(record.role, config, simulate=simulate, inject=inject)
        ctx = check.CheckContext(
            role=record.role,
            device_id=record.device_id,
            uplink=uplink,
            broker=broker,
            clock=clock,
            hardware=parts,
            api_url=api_url,
            branch=record.branch,
            simulate=simulate,
            timeout_s=timeout_s,
            crl_file=crl_file or _crl_here(layout, ca_dir if simulate else None),
        )
        try:
            with console.status("checking") as status:
                results = check.run(
                    check.plan(ctx), ctx, on_start=lambda c: status.update(f"checking {c.title}")
                )
        finally:
            parts.close()
    _print(console, record, results, simulate=simulate, inject=inject)
    return results


def _crl_here(layout: device.Layout, ca_dir: Path | None) -> Path | None:
    for candidate in (
        None if ca_dir is None else pki.CADirectory(ca_dir).crl_file,
        layout.root / BROKER_CRL,
    ):
        if candidate is not None and candidate.exists():
            return candidate
    return None


@contextlib.contextmanager
def _branch(
    simulate: bool, ca_dir: Path | None, inject: frozenset[str]
) -> Iterator[SimulatedNetwork | None]:
    if not simulate:
        yield None
        return
    if ca_dir is None:
        raise ProvisionError(
            "--simulate needs --ca DIR: the simulated broker's certificate must come from the "
            "CA that signed this device"
        )
    ca = pki.CADirectory(ca_dir)
    with simulated_branch_factory()(
        ca,
        broker="broker" not in inject,
        backoffice="backoffice" not in inject,
        api="api" not in inject,
    ) as branch:
        yield branch


def _print(
    console: Console,
    record: device.DeviceRecord,
    results: list[check.Result],
    *,
    simulate: bool,
    inject: frozenset[str],
) -> None:
    mode = "simulated hardware and branch" if simulate else "real hardware"
    if inject:
        mode += f", injected failures: {', '.join(sorted(inject))}"
    table = Table(title=f"provision check: {record.device_id} ({record.role}, {mode})")
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail")
    for result in results:
        table.add_row(
            escape(result.title), _MARK[result.outcome.status], escape(result.outcome.detail)
        )
    console.print(table)
    counts = check.summary(results)
    failed = [r for r in results if r.outcome.status == "fail"]
    warned = [r for r in results if r.outcome.status == "warn"]
    if warned:
        console.print(f"[bold yellow]{len(warned)} warning(s)[/]: renew before it runs out:")
        for result in warned:
            console.print(
                f"  - {result.title} — {result.outcome.detail}\n    → {result.outcome.fix}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
    if not failed:
        passed = counts["pass"] + counts["warn"]
        console.print(
            f"[bold green]all {passed} checks passed[/] ({counts['warn']} with a warning, "
            f"{counts['skip']} skipped)"
        )
        return
    console.print(f"[bold red]{len(failed)} of {len(results)} checks failed.[/] To fix:")
    for result in failed:
        console.print(
            f"  - {result.title} — {result.outcome.detail}\n    → {result.outcome.fix}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
