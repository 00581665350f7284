"""The house rules that keep the layers apart, checked on the source (the one architecture test)."""

from __future__ import annotations

import ast
import functools
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HARDWARE = {"gpiozero", "picamera2", "libcamera", "kivy", "escpos", "smbus2", "cv2", "zxingcpp"}
NETWORK = {"paho", "requests"}


def modules(package: str) -> Iterator[Path]:
    yield from sorted((ROOT / package).rglob("*.py"))


@functools.cache
def parsed(path: Path) -> ast.Module:
    """The syntax tree of one of our files (parsed once: several tests read every file)."""
    return ast.parse(path.read_text(encoding="utf-8"))


def imports(path: Path, *, top_level_only: bool = False) -> set[str]:
    """Module names imported by `path` (top-level statements only if asked)."""
    tree = parsed(path)
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def roots(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize(
    "package", ["kiosk/domain", "dropbox_agent/domain", "kiosk/booking", "uplink/booking"]
)
def test_domains_import_no_hardware_ui_or_network_library(package: str) -> None:
    for path in modules(package):
        bad = roots(imports(path)) & (HARDWARE | NETWORK)
        # The booking package talks HTTP only in its adapter modules and their wiring.
        if package == "kiosk/booking" and path.name in {
            "http.py",
            "sync.py",
            "lookup.py",
            "refresh.py",
            "factory.py",
        }:
            bad -= {"requests"}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_hardware_libraries_are_imported_lazily_inside_adapters() -> None:
    for package in (
        "kiosk",
        "dropbox_agent",
        "uplink",
        "receipts",
        "backoffice",
        "provisioning",
        "branchsim",
    ):
        for path in modules(package):
            eager = roots(imports(path, top_level_only=True)) & (HARDWARE - {"zxingcpp", "cv2"})
            if path.is_relative_to(ROOT / "kiosk" / "ui"):
                eager -= {"kivy"}  # the touchscreen's own modules, loaded only to show it
            assert not eager, f"{path.relative_to(ROOT)} imports {sorted(eager)} at module level"


def test_dependencies_point_one_way() -> None:
    allowed = {
        "configkit": set(),
        "uplink": {"configkit"},
        # One printing stack for the kiosk's tickets and the dropbox's slips.
        "receipts": {"configkit"},
        "kiosk": {"configkit", "uplink", "receipts"},
        "dropbox_agent": {"configkit", "uplink", "receipts"},
        # The back office shares only the uplink's contracts (messages and booking tokens).
        "backoffice": {"configkit", "uplink"},
        # Provisioning takes a device from blank to verified; the simulated branch it can check
        # against is found through an entry point, so it never imports the back office.
        "provisioning": {
            "configkit",
            "uplink",
            "receipts",
            "kiosk",
            "dropbox_agent",
            "firmware_config",
        },
        # The branch simulation runs everything, and nothing imports it.
        "branchsim": {
            "configkit",
            "uplink",
            "receipts",
            "kiosk",
            "dropbox_agent",
            "backoffice",
            "provisioning",
            "firmware_config",
        },
    }
    ours = set(allowed) | {"firmware_config"}
    for package, may_use in allowed.items():
        for path in modules(package):
            used = (roots(imports(path)) & ours) - {package}
            assert used <= may_use, f"{path.relative_to(ROOT)} imports {sorted(used - may_use)}"


def test_the_simulated_branch_is_installed_for_provision_check() -> None:
    from branchsim import SimulatedBranch
    from provisioning.selftest import simulated_branch_factory

    assert simulated_branch_factory() is SimulatedBranch


def test_the_receipt_vocabulary_the_domains_use_imports_no_hardware() -> None:
    """The domains lay out tickets and slips with `receipts`' elements: those stay pure."""
    for name in ("__init__.py", "elements.py", "errors.py", "status.py", "config.py"):
        path = ROOT / "receipts" / name
        bad = roots(imports(path)) & (HARDWARE | NETWORK | {"PIL", "numpy"})
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


# The check-in flow is domain (kiosk.domain.checkin); the engine orchestrates over ports only.
ENGINE = ROOT / "kiosk" / "engine.py"
NOT_FOR_THE_ENGINE = (
    "kiosk.adapters",
    "kiosk.app",
    "kiosk.runtime",
    "kiosk.sim",
    "kiosk.store",
    "kiosk.ui",
    "kiosk.booking.ledger",
    "kiosk.booking.cache",
    "kiosk.booking.factory",
    "kiosk.booking.http",
    "kiosk.booking.lookup",
    "kiosk.booking.sync",
    "sqlite3",
    "cv2",
    "zxingcpp",
    "numpy",
    "PIL",
)
# What a domain module must not need, so it is testable without SQLite, OpenCV or threads.
NOT_FOR_A_DOMAIN = {"sqlite3", "threading", "queue", "concurrent", "asyncio", "numpy", "PIL"}


def test_the_engine_imports_no_adapter_store_or_device_library() -> None:
    used = imports(ENGINE)
    bad = {name for name in used if name == "kiosk.booking" or name.startswith(NOT_FOR_THE_ENGINE)}
    assert not bad, f"kiosk/engine.py imports {sorted(bad)}: go through a port in kiosk/ports.py"


def test_importing_the_engine_loads_no_image_library() -> None:
    code = (
        "import sys, kiosk.engine;"
        "print(sorted(m for m in ('cv2', 'zxingcpp', 'PIL') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "path",
    [*modules("kiosk/domain"), *modules("dropbox_agent/domain")],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_every_domain_module_needs_no_storage_threads_or_images(path: Path) -> None:
    bad = roots(imports(path)) & NOT_FOR_A_DOMAIN
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_the_kiosks_app_module_is_wiring_only() -> None:
    """The loop lives in kiosk/runtime.py, the simulation runners in kiosk/sim/runner.py."""
    app = ROOT / "kiosk" / "app.py"
    lines = len(app.read_text(encoding="utf-8").splitlines())
    assert lines <= 250, f"kiosk/app.py has {lines} lines: move what is not wiring out of it"
    defined = {
        node.name
        for node in ast.parse(app.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef | ast.ClassDef)
    }
    assert not defined & {"Kiosk", "run_simulated", "checkin_simulated", "duplicate_payload"}


@pytest.mark.parametrize("app", ["kiosk/app.py", "dropbox_agent/app.py"])
def test_no_app_module_is_over_250_lines(app: str) -> None:
    lines = len((ROOT / app).read_text(encoding="utf-8").splitlines())
    assert lines <= 250, f"{app} has {lines} lines: move what is not wiring out of it"


def test_the_dropboxs_app_module_is_wiring_only() -> None:
    """The agent lives in dropbox_agent/agent.py, the simulated boxes in dropbox_agent/sim/."""
    app = ROOT / "dropbox_agent" / "app.py"
    defined = {
        node.name
        for node in ast.parse(app.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef | ast.ClassDef)
    }
    moved = {"DropboxAgent", "SimulatedBoxKit", "run_simulated", "run_interactive"}
    assert not defined & moved
    assert {"build", "run"} <= defined


EVENT_NAME = re.compile(r"^(dropbox|device|kiosk)\.[a-z_]+(\.[a-z_]+)*$")


@pytest.mark.parametrize(
    "path",
    [
        "dropbox_agent/domain/machine.py",
        "dropbox_agent/agent.py",
        "dropbox_agent/held.py",
        "dropbox_agent/inputs.py",
        "kiosk/engine.py",
    ],
)
def test_event_names_are_spelled_only_in_the_vocabulary(path: str) -> None:
    """Events are built by each app's domain/events.py: nobody else writes their names."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    inline = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and EVENT_NAME.match(node.value)
    }
    assert not inline, f"{path} spells event names {sorted(inline)}: use its domain/events.py"


def test_the_dropbox_vocabulary_names_every_dropbox_schema() -> None:
    from dropbox_agent.domain import events

    names = {
        value
        for name, value in vars(events).items()
        if name.isupper() and isinstance(value, str) and EVENT_NAME.match(value)
    }
    schemas = {
        path.name.removesuffix(".v1.json")
        for path in (ROOT / "uplink" / "schemas" / "events").glob("dropbox.*.v1.json")
    }
    assert names - {"device.fault"} == schemas


# -- the dropbox: a pure domain, the simulators reached only through the wiring module -----------

DROPBOX_DOMAIN = ROOT / "dropbox_agent" / "domain"
NOT_FOR_THE_DROPBOX_DOMAIN = {
    "gpiozero", "picamera2", "kivy", "escpos", "paho", "cv2", "smbus2", "zxingcpp",
    "requests", "sqlite3", "socket", "threading", "time", "uplink", "dropbox_agent.adapters",
    "dropbox_agent.sim", "dropbox_agent.app",
}  # fmt: skip


def test_dropbox_domain_modules_import_nothing_from_the_outside_world() -> None:
    files = sorted(DROPBOX_DOMAIN.glob("*.py"))
    assert len(files) >= 6
    offenders = {
        f"{path.name}: {name}"
        for path in files
        for name in imports(path)
        if any(name == bad or name.startswith(bad + ".") for bad in NOT_FOR_THE_DROPBOX_DOMAIN)
    }
    assert offenders == set()


def test_only_the_dropbox_wiring_module_imports_the_simulated_devices() -> None:
    """The simulated twins are made by devices.py alone (the wiring of every device); the CLI
    reaches the simulation runners (dropbox_agent/sim/runner.py), which take their devices
    from devices.py."""
    package = DROPBOX_DOMAIN.parent
    users = {
        path.relative_to(package).as_posix(): sorted(
            n for n in imports(path) if n.startswith("dropbox_agent.sim")
        )
        for path in package.rglob("*.py")
        if "sim" not in path.relative_to(package).parts
        and any(n.startswith("dropbox_agent.sim") for n in imports(path))
    }
    assert set(users) == {"devices.py", "__main__.py"}
    assert users["__main__.py"] == ["dropbox_agent.sim.runner"]


# -- the kiosk: a pure domain; device libraries only in their adapters, imported late -----------

KIOSK = ROOT / "kiosk"
NOT_FOR_THE_KIOSK_DOMAIN = {
    "gpiozero", "picamera2", "libcamera", "kivy", "escpos", "usb", "serial", "paho", "cv2",
    "smbus2", "zxingcpp", "requests", "numpy", "PIL",
}  # fmt: skip
# Libraries that touch devices when imported, or need them: never at module level anywhere.
LAZY_ONLY = {"picamera2", "libcamera", "smbus2", "escpos", "usb", "serial", "gpiozero", "kivy"}
KIOSK_PURE = [*sorted((KIOSK / "domain").glob("*.py")), KIOSK / "bilingual.py"]


@pytest.mark.parametrize("path", KIOSK_PURE, ids=lambda p: p.name)
def test_the_kiosk_domain_imports_no_hardware_ui_or_network_library(path: Path) -> None:
    assert roots(imports(path)) & NOT_FOR_THE_KIOSK_DOMAIN == set()


def test_the_kiosk_domain_does_not_depend_on_adapters_the_engine_or_the_uplink() -> None:
    outer = ("kiosk.adapters", "kiosk.engine", "kiosk.app", "kiosk.sim", "kiosk.store", "uplink")
    contract = "uplink.booking"  # pure values: what a booking says
    for path in KIOSK_PURE:
        used = {m for m in imports(path) if not m.startswith(contract)}
        assert not {m for m in used if m.startswith(outer)}, f"{path.name} imports {used}"


@pytest.mark.parametrize(
    "path", sorted(p for p in KIOSK.rglob("*.py") if "booking" not in p.parts), ids=str
)
def test_kiosk_device_libraries_are_imported_only_inside_functions(path: Path) -> None:
    lazy = LAZY_ONLY
    if "ui" in path.relative_to(KIOSK).parts:
        lazy = LAZY_ONLY - {"kivy"}  # the touchscreen's own modules; nothing outside imports them
    assert roots(imports(path, top_level_only=True)) & lazy == set()


def test_kivy_is_imported_only_under_kiosk_ui() -> None:
    for path in KIOSK.rglob("*.py"):
        if "ui" not in path.relative_to(KIOSK).parts:
            assert "kivy" not in roots(imports(path)), path


def test_importing_the_kiosk_app_and_cli_loads_no_device_library() -> None:
    code = (
        "import sys, kiosk.app, kiosk.__main__;"
        f"print(sorted(m for m in {sorted(LAZY_ONLY)!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


# Devices are built by each app's wiring (kiosk/devices.py, dropbox_agent/devices.py); the
# self-test adds probes only. The QR decoder is no device: the probe reads the card with it.
DEVICE_WIRING = (
    "kiosk.adapters.picamera",
    "kiosk.adapters.usbcam",
    "kiosk.adapters.capture",
    "kiosk.adapters.mlx90614",
    "kiosk.sim.camera",
    "kiosk.sim.printer",
    "kiosk.sim.thermometer",
    "dropbox_agent.adapters",
    "dropbox_agent.sim",
    "receipts.escpos_printer",
    "receipts.sim",
    "receipts.wiring",
    "gpiozero",
    "smbus2",
    "escpos",
)


@pytest.mark.parametrize("path", [*modules("provisioning")], ids=lambda p: str(p.relative_to(ROOT)))
def test_provisioning_has_no_copy_of_device_wiring(path: Path) -> None:
    copied = {name for name in imports(path) if name.startswith(DEVICE_WIRING)}
    assert not copied, f"{path.relative_to(ROOT)} builds devices itself: {sorted(copied)}"


def test_one_event_sink_protocol_lives_in_the_uplink() -> None:
    defined = {
        path.relative_to(ROOT).as_posix()
        for package in ("kiosk", "dropbox_agent", "uplink", "receipts", "backoffice")
        for path in modules(package)
        if any(
            isinstance(node, ast.ClassDef) and node.name == "EventSink"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    }
    assert defined == {"uplink/sink.py"}


PACKAGES = ("configkit", "uplink", "receipts", "kiosk", "dropbox_agent", "backoffice",
            "provisioning", "branchsim")  # fmt: skip


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _loaded(path: Path, graph: dict[str, set[str]]) -> set[str]:
    """Our modules that `path`'s module-level imports load (`from a import b`: the submodule
    a.b when b is one, else a)."""

    def module_of(dotted: str) -> str | None:
        parts = dotted.split(".")
        prefixes = (".".join(parts[:i]) for i in range(len(parts), 0, -1))
        return next((p for p in prefixes if p in graph), None)

    found: set[str | None] = set()
    for node in parsed(path).body:
        if isinstance(node, ast.Import):
            found |= {module_of(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {module_of(f"{node.module}.{alias.name}") for alias in node.names}
    return {name for name in found if name is not None}


@functools.cache
def _module_graph() -> dict[str, set[str]]:
    """Each of our modules, with the modules of ours its module-level imports load."""
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in modules(package):
            graph[_module_name(path)] = set()
    for package in PACKAGES:
        for path in modules(package):
            name = _module_name(path)
            graph[name] = {t for t in _loaded(path, graph) if t != name}
    return graph


def test_no_import_cycle_at_module_level() -> None:
    """Imports run when a module loads (not those inside functions or under TYPE_CHECKING)
    form no cycle, so any module can be imported first."""
    graph = _module_graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path_stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path_stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path_stack[path_stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        path_stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            assert cycle is None, "import cycle: " + " -> ".join(cycle)


# -- every exception a package defines is under its root, and drawn in its tree ----------------

ERROR_ROOTS = {
    "uplink": "UplinkError",
    "receipts": "ReceiptError",
    "kiosk": "KioskError",
    "dropbox_agent": "DropboxError",
    "provisioning": "ProvisionError",
    "backoffice": "BackofficeError",
    "branchsim": "BranchSimError",
}
# Each package's root: its errors module's, and configkit's one exception (it has no other).
EXCEPTION_ROOTS = {
    **{package: f"{package}.errors.{root}" for package, root in ERROR_ROOTS.items()},
    "configkit": "configkit._load.ConfigError",
}
TREE_BRANCH = re.compile(
    r"^(?P<indent>(?:[│ ]   )*)[├└]── (?P<name>[A-Za-z_][A-Za-z0-9_.]*)(?: \((?P<base>\w+)\))?"
)


def _attribute(dotted: str) -> object:
    """The object a dotted name such as ``uplink.errors.UplinkError`` names (imported)."""
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for part in parts[cut:]:
            found = getattr(found, part)
        return found
    raise ModuleNotFoundError(dotted)


@functools.cache
def _unimportable() -> frozenset[str]:
    """Our modules this test does not import: those that load Kivy (Kivy reads its settings
    once per process, and the touchscreen tests choose them) and the `__main__` modules (which
    run their tool)."""
    graph = _module_graph()
    return frozenset(_kivy_bound(graph) | {name for name in graph if name.endswith(".__main__")})


def _kivy_bound(graph: dict[str, set[str]]) -> set[str]:
    """Our modules that load Kivy when imported."""
    bound = {
        name
        for name in graph
        if "kivy" in roots(imports(ROOT / _module_path(name), top_level_only=True))
    }
    while True:
        more = {
            name
            for name, loads in graph.items()
            if name not in bound and (loads & bound or any(name.startswith(f"{b}.") for b in bound))
        }
        if not more:
            return bound
        bound |= more


def _module_path(name: str) -> Path:
    path = ROOT.joinpath(*name.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _names_imported(tree: ast.Module) -> dict[str, str]:
    """Each name a module binds by an import (anywhere in it), to the dotted name it stands for."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:  # `import a.b` binds a; `import a.b as c` binds c to a.b
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    names[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _is_exception_in_source(module: str, node: ast.ClassDef, unimportable: frozenset[str]) -> bool:
    """Whether a class is an exception, from its module's source: its bases are resolved through
    the module's imports (importing only what loads without Kivy; Kivy's classes are widgets)."""
    import builtins

    tree = parsed(_module_path(module))
    local = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    imported = _names_imported(tree)
    for base in node.bases:
        head, _, rest = ast.unparse(base).partition(".")
        if head in local and not rest and local[head] is not node:
            if _is_exception_in_source(module, local[head], unimportable):
                return True
            continue
        if head in imported:
            target = imported[head] + (f".{rest}" if rest else "")
        elif hasattr(builtins, head):
            target = f"builtins.{head}"
        else:
            raise AssertionError(f"{module}: cannot tell what {ast.unparse(base)} is")
        if target.split(".")[0] == "kivy":
            continue
        owner, _, name = target.rpartition(".")
        if owner in unimportable:
            found = next(
                n
                for n in parsed(_module_path(owner)).body
                if isinstance(n, ast.ClassDef) and n.name == name
            )
            if _is_exception_in_source(owner, found, unimportable):
                return True
            continue
        cls = _attribute(target)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            return True
    return False


def defined_exceptions(package: str) -> list[tuple[str, type[BaseException]]]:
    """Every exception class `package` defines, as (module.Class, the class).

    Classes are read from the source, so none is missed; each module is imported to get them,
    except those that load Kivy and the `__main__` modules (which run their tool): an exception
    there, or one nested in a function or class, fails here with where to define it instead.
    """
    import importlib

    unimportable = _unimportable()
    found: list[tuple[str, type[BaseException]]] = []
    for path in modules(package):
        name = _module_name(path)
        tree = parsed(path)
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            if name in unimportable or node not in tree.body:
                assert not _is_exception_in_source(name, node, unimportable), (
                    f"{name}.{node.name}: define exceptions at module level, in a module that "
                    "loads without Kivy (e.g. the package's errors module)"
                )
                continue
            cls = getattr(importlib.import_module(name), node.name)
            if issubclass(cls, BaseException):
                found.append((f"{name}.{node.name}", cls))
    return found


@pytest.mark.parametrize("package", sorted(EXCEPTION_ROOTS))
def test_every_exception_a_package_defines_is_under_its_root(package: str) -> None:
    """One `except <Root>` catches everything a package raises on purpose; each exception keeps
    the builtin base callers catch it by (``class TokenError(UplinkError, ValueError)``)."""
    root = _attribute(EXCEPTION_ROOTS[package])
    assert isinstance(root, type)
    found = defined_exceptions(package)
    assert root in [cls for _, cls in found]
    outside = [where for where, cls in found if not issubclass(cls, root)]
    assert not outside, f"not under {EXCEPTION_ROOTS[package]}: {outside}"


@pytest.mark.parametrize("package", sorted(ERROR_ROOTS))
def test_the_error_tree_in_the_docstring_is_true(package: str) -> None:
    """The tree drawn in each errors module (or the package's own docstring) names every public
    exception the package defines, each under its parent, with the builtin it is drawn with."""
    import builtins
    import importlib

    errors = importlib.import_module(f"{package}.errors")
    root = getattr(errors, ERROR_ROOTS[package])
    drawing = errors.__doc__ or ""
    if "──" not in drawing:  # drawn in the package's own docstring
        drawing = importlib.import_module(package).__doc__ or ""
    lines = drawing.splitlines()
    top = next(line for line in lines if line.strip().startswith(root.__name__ + " "))
    margin = len(top) - len(top.lstrip())
    parents: list[type] = [root]
    drawn: set[type] = {root}
    for line in (line[margin:] for line in lines):
        if (branch := TREE_BRANCH.match(line)) is None:
            continue
        depth = len(branch["indent"]) // 4 + 1
        module, _, name = branch["name"].rpartition(".")
        home = importlib.import_module(f"{package}.{module}") if module else errors
        cls = getattr(home, name)
        assert parents[depth - 1] in cls.__bases__, f"{package}: {line.strip()}"
        if branch["base"]:
            assert issubclass(cls, getattr(builtins, branch["base"])), f"{package}: {line}"
        del parents[depth:]
        parents.append(cls)
        drawn.add(cls)
    undrawn = [
        where
        for where, cls in defined_exceptions(package)
        if cls not in drawn and not cls.__name__.startswith("_")
    ]
    assert not undrawn, f"{package}'s tree does not draw {undrawn}"
