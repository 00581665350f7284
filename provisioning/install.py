"""`provision install`: a flashed Pi to a green `provision check` in one command, safe to rerun.

The steps, in order (each prints `[i/n] what`; apt and pip print their own progress)::

    1 system packages      apt-get install --no-install-recommends, the role's list below
    2 the app's venv       python3 -m venv --system-site-packages /opt/lapak/venv
                           (python3-picamera2 and lgpio come from apt, so the venv sees them)
    3 the project          pip install --upgrade WHEEL (the kiosk with its [ui] extra)
    4 identity and config  `provision device init` (skipped when already provisioned as this
                           role; a kiosk or dropbox only)
    5 rendering            `provision render` (idempotent: a rerun changes nothing)
    6 users and services   systemd-sysusers; systemctl daemon-reload; systemctl enable
    7 self-test            `provision check` (a kiosk or dropbox), then a reboot (unless
                           --no-reboot) so the boot settings and the service take effect

Commands that change the system (apt-get, python3 -m venv, pip, systemd-sysusers, systemctl)
go through a `Runner`. On a device (`--root /`) it runs them; with `--root DIR` (a folder
standing for the device's root, for rehearsals and tests) the default runner only prints them,
and the self-test runs against simulated hardware and a simulated branch (`--ca` is needed).
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from provisioning.errors import ProvisionError

logger = logging.getLogger(__name__)

ROLES = ("kiosk", "dropbox", "branch-broker")
DEVICE_ROLES = ("kiosk", "dropbox")
# What each role needs from Raspberry Pi OS (Debian bookworm) beyond the base image.
APT_PACKAGES: dict[str, tuple[str, ...]] = {
    # cage: the kiosk compositor; Mesa for Kivy; picamera2 from the Pi's repository; espeak-ng
    # speaks the prompts; i2c-tools to see the thermometer (`i2cdetect -y 1`).
    "kiosk": (
        "cage",
        "python3-picamera2",
        "libgl1",
        "libgl1-mesa-dri",
        "libegl1",
        "libmtdev1",
        "espeak-ng",
        "i2c-tools",
    ),
    # lgpio: gpiozero's pin factory on a Pi 5 (and on Pi 4 with bookworm).
    "dropbox": ("python3-lgpio", "i2c-tools"),
    "branch-broker": ("mosquitto", "mosquitto-clients"),
}
EXTRAS = {"kiosk": "[ui]"}
UNITS = {"kiosk": "lapak-kiosk.service", "dropbox": "lapak-dropbox.service"}

Runner = Callable[[Sequence[str]], None]


def run_command(argv: Sequence[str]) -> None:
    """Run a system command with its output on the terminal (apt's and pip's progress).

    Raises:
        ProvisionError: it failed; the message names it and says that a rerun is safe.
    """
    try:
        subprocess.run(list(argv), check=True)
    except FileNotFoundError:
        raise ProvisionError(f"{argv[0]}: not found; is this Raspberry Pi OS?") from None
    except subprocess.CalledProcessError as exc:
        raise ProvisionError(
            f"`{' '.join(argv)}` failed (exit {exc.returncode}); fix what it printed above and "
            "run `provision install` again (it is safe to rerun)"
        ) from None


def print_command(argv: Sequence[str]) -> None:
    """The runner for a rehearsal in a folder: say what would run on the device."""
    sys.stdout.write(f"      (rehearsal, not run) {' '.join(argv)}\n")
    sys.stdout.flush()


@dataclass
class Plan:
    """What `provision install` does, step by step (built by `steps`)."""

    role: str
    root: Path
    venv: PurePosixPath
    wheel: Path | None
    runner: Runner
    device_init: Callable[[], int]  # `provision device init ...` (exit code)
    provisioned_as: Callable[[], str | None]  # the role in device.toml, None when not yet
    render_role: Callable[[], int]  # `provision render ...`
    self_check: Callable[[], int]  # `provision check ...`
    reboot: bool = True  # after a green self-test: boot settings and the service take effect
    say: Callable[[str], None] = print
    done: list[str] = field(default_factory=list)

    @property
    def on_device(self) -> bool:
        return self.root == Path("/")

    def host(self, path: PurePosixPath) -> Path:
        return self.root / path.relative_to("/")


Step = tuple[str, Callable[[Plan], None]]


def steps(role: str) -> list[Step]:
    """The steps for `role`, titled as the progress lines show them."""
    if role not in ROLES:
        raise ProvisionError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    plan: list[Step] = [
        (f"system packages for the {role} (apt-get; a few minutes the first time)", _apt),
    ]
    if role in DEVICE_ROLES:
        plan += [
            ("the app's venv with system site packages", _venv),
            ("the project from the wheel (pip; a minute or two)", _wheel),
            ("this device's identity and config (provision device init)", _identity),
        ]
    plan += [
        ("rendering the role (provision render)", _render),
        ("system users and services (systemd)", _services),
    ]
    if role in DEVICE_ROLES:
        plan.append(("self-test (provision check)", _check))
    return plan


def install(plan: Plan) -> int:
    """Run every step with progress; stop at the first that fails (a rerun starts over safely).

    Returns:
        0 when every step (and the self-test) passed, else the failing step's exit code.
    """
    todo = steps(plan.role)
    for number, (title, action) in enumerate(todo, 1):
        plan.say(f"[{number}/{len(todo)}] {title}")
        try:
            action(plan)
        except _StepFailed as failed:
            plan.say(f"install stopped at step {number}: {failed}; rerun after fixing it")
            return failed.code
        plan.done.append(title)
    plan.say(f"{plan.role} installed" + ("" if plan.on_device else f" into {plan.root}"))
    if plan.reboot and plan.role in DEVICE_ROLES:
        plan.say("rebooting: the boot settings (I2C, camera, watchdog) and the service start now")
        plan.runner(["systemctl", "reboot"])
    return 0


class _StepFailed(ProvisionError):
    """A step of the install failed; `code` is the exit code `install` returns."""

    def __init__(self, what: str, code: int) -> None:
        super().__init__(what)
        self.code = code


def _apt(plan: Plan) -> None:
    packages = APT_PACKAGES["branch-broker" if plan.role == "branch-broker" else plan.role]
    plan.runner(["apt-get", "update"])
    plan.runner(["apt-get", "install", "-y", "--no-install-recommends", *packages])


def _venv(plan: Plan) -> None:
    # Rerunning keeps what is installed; --system-site-packages is what lets picamera2 in.
    plan.runner(["python3", "-m", "venv", "--system-site-packages", str(plan.host(plan.venv))])


def _wheel(plan: Plan) -> None:
    if plan.wheel is None:
        plan.say("      no --wheel given: keeping the project installed in the venv")
        return
    if not plan.wheel.is_file():
        raise _StepFailed(f"--wheel {plan.wheel}: no such file (copy it to the device first)", 2)
    pip = str(plan.host(plan.venv / "bin" / "pip"))
    target = f"{plan.wheel.resolve()}{EXTRAS.get(plan.role, '')}"
    plan.runner([pip, "install", "--upgrade", target])


def _identity(plan: Plan) -> None:
    current = plan.provisioned_as()
    if current == plan.role:
        plan.say("      already provisioned as this role: identity and config kept")
        return
    if current is not None:
        raise _StepFailed(
            f"this device is provisioned as a {current}, not a {plan.role}; "
            "see `provision device show`",
            3,
        )
    code = plan.device_init()
    if code:
        raise _StepFailed("provision device init did not finish (see above)", code)


def _render(plan: Plan) -> None:
    code = plan.render_role()
    if code:
        raise _StepFailed("provision render did not finish (see above)", code)


def _services(plan: Plan) -> None:
    root = [] if plan.on_device else ["--root", str(plan.root)]
    plan.runner(["systemd-sysusers", *root])
    if plan.role == "branch-broker":
        plan.runner(["systemctl", *root, "enable", "mosquitto.service"])
        if plan.on_device:
            plan.runner(["systemctl", "restart", "mosquitto.service"])
        return
    if plan.on_device:
        plan.runner(["systemctl", "daemon-reload"])
    # Rendering linked the unit into its target already; enabling again is harmless and says so.
    plan.runner(["systemctl", *root, "enable", UNITS[plan.role]])


def _check(plan: Plan) -> None:
    code = plan.self_check()
    if code:
        raise _StepFailed("provision check found problems (the table above says what to fix)", code)


# The runners `provision install` uses: on a device, and for a rehearsal in a folder. Tests
# replace them (a recording runner) to run the whole install without touching the system.
RUNNER: Runner = run_command
REHEARSAL_RUNNER: Runner = print_command
