"""The package's folders are its layers, and imports run one way (see ../shared/STYLE.md):

    core (the root modules, log/, html/, wire/)
      <-  the middle: data, tunnel, server, deploy, testing, emulator, chatlayer, v1emulator
      <-  the top: widgets, demo, the command line and the package's own __init__

Between the middle packages, imports follow :data:`MIDDLE_MAY_IMPORT` (written down below):
server serves and may open a tunnel; deploy runs the server; the offline emulator shows progress bars
from testing; the real Chatlayer side (chatlayer: client, live bot, parity, calibration) drives the
offline emulator's scripts and opens tunnels; the emulated V1 API (v1emulator) runs the emulator's
conversations, hands out the real client and starts its own server (also under ``toolkit serve``). Nothing imports its way back up that list.

The core imports neither Flask nor ipywidgets; widgets/ is the only package importing ipywidgets.
The only upward imports allowed are App's conveniences (serve, flask, log_view), made inside the
method that needs them, as Flask's ``app.run`` imports Werkzeug.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "toolkit"
CORE_FOLDERS = {"log", "html", "wire"}
MIDDLE = {"server", "deploy", "tunnel", "chatlayer", "emulator", "v1emulator", "testing", "data"}
TOP = {"widgets", "demo", "__main__", "__init__"}  # may import anything below them
# Which middle package may import which other middle package (importer: imported).
MIDDLE_MAY_IMPORT: dict[str, set[str]] = {
    "data": set(),
    "tunnel": set(),
    "testing": set(),
    "server": {"tunnel"},
    "deploy": {"server", "tunnel"},
    "emulator": {"testing"},
    "chatlayer": {"emulator", "tunnel"},
    "v1emulator": {"emulator", "chatlayer", "server"},
}
LEVEL = {"core": 0, "middle": 1, "top": 2}
# (importing module, imported module): App's conveniences, imported inside the method.
ALLOWED_UPWARD = {
    ("toolkit.app", "toolkit.server.lifecycle"),
    ("toolkit.app", "toolkit.server.adapter"),
    ("toolkit.app", "toolkit.widgets.logview"),
    # running a notebook headless swaps the public LogView/ChatView names for inert stand-ins
    ("toolkit.deploy.loader", "toolkit"),
}


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "top"  # the package itself
    head = parts[1]
    if head in MIDDLE:
        return "middle"
    if head in CORE_FOLDERS:
        return "core"
    if head in TOP:
        return "top"
    return "core"


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[str, int]]:
    """(absolute module, line) for every import of a toolkit module or of a third-party module."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if node.module is None and node.level:  # from . import a, b: each name may be a module
                found += [(f"{target}.{alias.name}", node.lineno) for alias in node.names]
            else:
                found.append((target, node.lineno))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_the_root_shows_the_layers() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert folders == MIDDLE | CORE_FOLDERS | {"widgets", "demo"}
    flat = {p.stem for p in PACKAGE.glob("*.py")}
    assert {"app", "routing", "params", "request", "reply", "messages", "errors", "config"} <= flat
    assert len(flat) <= 16, f"the root holds only the core: {sorted(flat)}"
    assert not {p for p in flat if p.startswith(("v1_", "tunnel_"))}, "layer modules belong in their folder"


def test_no_two_modules_share_a_file_name() -> None:
    seen: dict[str, list[str]] = {}
    for path in MODULES:
        if path.name != "__init__.py":
            seen.setdefault(path.name, []).append(str(path.relative_to(PACKAGE)))
    assert not {name: where for name, where in seen.items() if len(where) > 1}


def test_every_middle_package_has_its_directions_written_down() -> None:
    assert set(MIDDLE_MAY_IMPORT) == MIDDLE
    assert all(targets <= MIDDLE for targets in MIDDLE_MAY_IMPORT.values())


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_one_way(path: Path) -> None:
    me = module_name(path)
    problems = []
    for target, line in imports(path):
        if target.split(".")[0] != "toolkit":
            continue
        if (me, target) in ALLOWED_UPWARD:
            continue
        if LEVEL[layer(target)] > LEVEL[layer(me)]:
            problems.append(f"{path.name}:{line} imports {target} ({layer(me)} -> {layer(target)})")
        elif not sideways_ok(me, target):
            problems.append(f"{path.name}:{line} imports {target} ({package_of(me)} -> {package_of(target)}: "
                            "not in MIDDLE_MAY_IMPORT)")
    assert not problems, "wrong-way imports:\n" + "\n".join(problems)


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def sideways_ok(me: str, target: str) -> bool:
    """Between two middle packages, only the directions of MIDDLE_MAY_IMPORT."""
    if layer(me) != "middle" or layer(target) != "middle":
        return True
    mine, theirs = package_of(me), package_of(target)
    return mine == theirs or theirs in MIDDLE_MAY_IMPORT[mine]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_imports_neither_flask_nor_ipywidgets(path: Path) -> None:
    me = module_name(path)
    third = {t.split(".")[0] for t, _ in imports(path)}
    if layer(me) == "core":
        assert not third & {"flask", "werkzeug", "ipywidgets", "waitress"}, me
    if not me.startswith("toolkit.widgets"):
        assert "ipywidgets" not in third, f"{me}: only toolkit.widgets imports ipywidgets"


def test_the_guard_sees_an_upward_import(tmp_path: Path) -> None:
    """The checker itself: a core module importing the server layer is caught."""
    fake = PACKAGE / "reply.py"
    targets = [t for t, _ in imports(fake)]
    assert "toolkit.errors" in targets  # relative imports resolve to absolute names
    assert layer("toolkit.server.engine") == "middle" and layer("toolkit.log.buffer") == "core"
    assert layer("toolkit.widgets.chat") == "top" and layer("toolkit.app") == "core"
    assert layer("toolkit.wire.webhook") == "core" and layer("toolkit.html.render") == "core"


def test_the_guard_sees_a_wrong_way_import_between_middle_packages() -> None:
    """The checker itself: the offline emulator importing the live bot (chatlayer sits above it) or
    the data layer importing the server is refused; chatlayer driving emulator scripts is allowed."""
    assert not sideways_ok("toolkit.emulator.conversation", "toolkit.chatlayer.live")
    assert not sideways_ok("toolkit.data.table", "toolkit.server.engine")
    assert not sideways_ok("toolkit.chatlayer.client", "toolkit.v1emulator.api")
    assert sideways_ok("toolkit.chatlayer.parity", "toolkit.emulator.script")
    assert sideways_ok("toolkit.v1emulator.api", "toolkit.chatlayer.client")
    assert sideways_ok("toolkit.emulator.flow", "toolkit.emulator.blocks")


# Exceptions that are not (yet) part of the public tree; each entry is a debt to pay.
PRIVATE_EXCEPTIONS = {"_Failure"}


def test_every_domain_error_is_a_toolkit_error_defined_in_toolkit_errors() -> None:
    """``toolkit.errors`` names the whole exception tree, so ``except toolkit.errors.X`` always works."""
    import toolkit.errors

    strays = []
    for path in MODULES:
        if path == PACKAGE / "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.name not in PRIVATE_EXCEPTIONS and any(
                    isinstance(b, ast.Name) and (b.id.endswith(("Error", "Exception")) or b.id in dir(toolkit.errors))
                    and b.id != "ABC" for b in node.bases):
                strays.append(f"{path.relative_to(PACKAGE)}: class {node.name}")
    assert not strays, "define these in toolkit/errors.py:\n" + "\n".join(strays)
    tree = [v for v in vars(toolkit.errors).values() if isinstance(v, type) and issubclass(v, Exception)]
    assert all(issubclass(cls, toolkit.errors.ToolkitError) for cls in tree)
    assert {"TableError", "TunnelError", "ChatlayerError", "FlowError", "FixtureError"} <= {c.__name__ for c in tree}
