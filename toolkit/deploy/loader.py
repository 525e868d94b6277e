"""``python -m toolkit serve PATH``: the same handlers, served by a production WSGI server.

PATH is a notebook (its code cells run headless: display and widget calls do nothing, ``app.serve()``
and ``server.expose()`` are inert, magics and shell escapes are skipped) or a Python module. The one
``toolkit.App`` it defines is served with waitress (everywhere) or gunicorn with N worker processes
(Linux and macOS).

A cell whose first line is ``# toolkit: skip`` (or that nbval skips, ``# NBVAL_SKIP``) is left out
here and by ``toolkit export``.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import io
import json
import logging
import os
import re
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..app import App
from ..errors import NotServing, ServeError

logger = logging.getLogger("toolkit.serve")
SKIP = re.compile(r"^\s*#\s*(toolkit:\s*skip|NBVAL_SKIP)\b", re.IGNORECASE | re.MULTILINE)
UI_METHODS = ("log_view", "chat_view", "chat", "view", "show")


@dataclass(frozen=True)
class Cell:
    """One code cell of a notebook: its position (1-based, as Jupyter counts) and source."""

    number: int
    source: str
    skipped: bool = False  # marked '# toolkit: skip' (or NBVAL_SKIP, or tagged toolkit-skip)

    @property
    def first_line(self) -> str:
        return next((ln.strip() for ln in self.source.splitlines() if ln.strip()), "")


def notebook_cells(path: str | os.PathLike[str], *, skipped: bool = False) -> list[Cell]:
    """The code cells of a notebook that run headless (``# toolkit: skip`` / ``NBVAL_SKIP`` left out;
    with ``skipped=True`` those too, marked :attr:`Cell.skipped`)."""
    p = Path(path)
    try:
        nb = json.loads(p.read_text(encoding="utf-8"))
        cells = nb["cells"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ServeError(f"Cannot read notebook {p}: {exc}.",
                         hint="Give the path of a saved .ipynb file (File > Save in Jupyter).") from None
    out = []
    for number, cell in enumerate(cells, 1):
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.get("cell_type") != "code" or not src.strip():
            continue
        skip = bool(SKIP.search(src)) or "toolkit-skip" in tags
        if skipped or not skip:
            out.append(Cell(number, src, skip))
    return out


# --- headless execution ----------------------------------------------------------------------


class Nothing:
    """Stands in for widgets, servers and tunnels when a notebook runs headless: absorbs everything."""

    def __getattr__(self, name: str) -> Nothing:
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Nothing:
        return self

    def __getitem__(self, key: Any) -> Nothing:
        return self

    def __enter__(self) -> Nothing:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "<headless>"


class NothingView(Nothing):
    """What ``toolkit.LogView(...)`` / ``toolkit.ChatView(...)`` make headless: a stand-in taking any
    arguments."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass


class HeadlessServer(Nothing):
    """What ``app.serve()`` returns headless: nothing is bound; stop/expose do nothing."""

    def __init__(self, app: App) -> None:
        self.__dict__.update(app=app, host="", port=0, url="", running=False)


class _Shell:
    """Enough of ``get_ipython()`` for transformed cells: ``%time``/``%%time``/``%%capture`` run their
    code; every other magic and shell escape does nothing."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.ns = namespace

    def run_line_magic(self, name: str, line: str, _stack_depth: int = 1) -> Any:
        if name == "time":
            exec(compile(line, "<%time>", "exec"), self.ns)
        return None

    def run_cell_magic(self, name: str, line: str, cell: str) -> Any:
        if name in ("time", "capture"):
            exec(compile(cell, f"<%%{name}>", "exec"), self.ns)
        return None

    def system(self, cmd: str) -> None:
        return None

    def getoutput(self, cmd: str, split: bool = True) -> list[str]:
        return []

    def __getattr__(self, name: str) -> Any:
        return Nothing()


@contextlib.contextmanager
def headless() -> Iterator[None]:
    """Inside: ``display`` does nothing, ``App.serve`` returns a :class:`HeadlessServer`, widget
    views return :class:`Nothing`. Everything is restored on exit."""
    import toolkit

    saved: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, value: Any) -> None:
        saved.append((owner, name, owner.__dict__.get(name, _MISSING)))
        setattr(owner, name, value)

    def noop(*args: Any, **kwargs: Any) -> None:
        return None

    for module in ("IPython.display", "IPython.core.display_functions", "IPython.core.display"):
        with contextlib.suppress(ImportError):
            mod = importlib.import_module(module)
            if hasattr(mod, "display"):
                patch(mod, "display", noop)
    patch(App, "serve", lambda self, *a, **k: HeadlessServer(self))
    for name in UI_METHODS:
        if name in App.__dict__:
            patch(App, name, lambda self, *a, **k: Nothing())
    for name in ("LogView", "ChatView"):
        patch(toolkit, name, NothingView)
    try:
        yield
    finally:
        for owner, name, old in reversed(saved):
            if old is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, old)


_MISSING = object()


def run_notebook(path: str | os.PathLike[str], *, strict: bool = False,
                 warn: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run a notebook's code cells headless in a fresh module; return its namespace.

    A cell that fails is skipped with a warning (``strict=True``: stop with a ServeError).
    """
    from IPython.core.inputtransformer2 import TransformerManager

    p = Path(path).resolve()
    module = _new_module(p)
    ns = module.__dict__
    shell = _Shell(ns)
    ns.update(display=lambda *a, **k: None, get_ipython=lambda: shell)
    transform = TransformerManager().transform_cell
    lost: set[str] = set()  # names the skipped (or failed) cells would have defined
    with headless(), _quiet_notebook():
        for cell in notebook_cells(p, skipped=True):
            if cell.skipped:
                lost |= _assigned(cell)
                continue
            try:
                exec(compile(transform(cell.source), f"{p.name} cell {cell.number}", "exec"), ns)
            except Exception as exc:
                problem = (f"{p.name}, cell {cell.number} ({cell.first_line[:60]!r}) failed headless: "
                           f"{type(exc).__name__}: {str(exc).rstrip('.')}")
                fix = ("If the cell is only for the notebook, put '# toolkit: skip' on its first line; "
                       "otherwise fix it so it runs top to bottom with no kernel state.")
                if strict:
                    raise ServeError(problem, hint=fix) from exc
                expected = _needs_the_live_notebook(cell, ns, exc, lost)
                lost |= _assigned(cell)
                if expected:  # e.g. requests.post(server.url + ...): there is no server headless
                    logger.info("%s. Skipped it: it needs the live notebook (a server, a widget).", problem)
                else:
                    (warn or logger.warning)(f"{problem}. Skipped it. {fix}")
    return ns


def _module_name(path: Path) -> str:
    """A fresh ``sys.modules`` name for a served file (dataclasses and pickle need one)."""
    stem = re.sub(r"\W", "_", path.stem)
    name, n = f"toolkit_served_{stem}", 1
    while name in sys.modules and getattr(sys.modules[name], "__file__", None) != str(path):
        n += 1
        name = f"toolkit_served_{stem}_{n}"
    return name


@contextlib.contextmanager
def _quiet_notebook() -> Iterator[None]:
    """While a notebook runs headless: its prints, progress bars and the errors its own example calls
    log (a handler shown failing on purpose) stay out of the command's output; warnings still show."""
    from ..app import HANDLER_FAILED

    class Demo(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return record.msg != HANDLER_FAILED

    toolkit_logger, demo = logging.getLogger("toolkit"), Demo()
    saved = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"
    toolkit_logger.addFilter(demo)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        toolkit_logger.removeFilter(demo)
        if saved is None:
            os.environ.pop("TQDM_DISABLE", None)
        else:
            os.environ["TQDM_DISABLE"] = saved


def _names(cell: Cell) -> set[str]:
    try:
        tree = ast.parse(cell.source)
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _assigned(cell: Cell) -> set[str]:
    try:
        tree = ast.parse(cell.source)
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _needs_the_live_notebook(cell: Cell, ns: dict[str, Any], exc: Exception, lost: set[str]) -> bool:
    """Whether a cell failed only because it runs headless: it uses a stand-in (a server that is not
    bound, a widget), a name that only a skipped cell would have defined, or it needs a running
    server (:class:`~toolkit.errors.NotServing`)."""
    if isinstance(exc, NotServing) or (isinstance(exc, NameError) and getattr(exc, "name", None) in lost):
        return True
    return any(isinstance(ns.get(name), Nothing) for name in _names(cell))


def _new_module(path: Path) -> types.ModuleType:
    module = types.ModuleType(_module_name(path))
    module.__file__ = str(path)
    sys.modules[module.__name__] = module
    return module


def import_module_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Import a ``.py`` file (its folder first on ``sys.path``) headless; return its namespace."""
    p = Path(path).resolve()
    spec = importlib.util.spec_from_file_location(_module_name(p), p)
    if spec is None or spec.loader is None:
        raise ServeError(f"Cannot import {p}.", hint="Give a .py file or a .ipynb notebook.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module.__name__] = module
    if str(p.parent) not in sys.path:
        sys.path.insert(0, str(p.parent))
    with headless():
        spec.loader.exec_module(module)
    return module.__dict__


def find_app(namespace: dict[str, Any], name: str | None = None, *, source: str = "it") -> App:
    """The one App in ``namespace`` (or the one whose variable or App name is ``name``)."""
    found: dict[int, tuple[str, App]] = {}
    for var, value in namespace.items():
        if isinstance(value, App) and not var.startswith("_"):
            found.setdefault(id(value), (var, value))
    apps = list(found.values())
    if name is not None:
        apps = [(v, a) for v, a in apps if name in (v, a.name)]
    if len(apps) == 1:
        return apps[0][1]
    listing = ", ".join(f"{a.name!r} (variable {v})" for v, a in apps)
    if not apps:
        what = f"no App named {name!r}" if name else "no toolkit.App"
        raise ServeError(f"{source} defines {what}.",
                         hint="Create one at the top level: app = toolkit.App('my-bot'), with its "
                         "handlers; or pass --app NAME with a variable or App name it defines.")
    raise ServeError(f"{source} defines {len(apps)} Apps: {listing}.",
                     hint="Choose one with --app NAME (the variable or the App's name).")


def load(path: str | os.PathLike[str], app: str | None = None, *, strict: bool = False) -> App:
    """The App of a notebook (run headless), a Python file, or an importable module name."""
    p = Path(path)
    if p.suffix in (".ipynb", ".py") and not p.is_file():
        raise ServeError(f"No file at {p.resolve()}.", hint="Check the path and the folder you run from.")
    if p.suffix == ".ipynb":
        ns = run_notebook(p, strict=strict)
    elif p.is_file():
        ns = import_module_file(p)
    else:
        try:
            with headless():
                ns = importlib.import_module(str(path)).__dict__
        except ImportError as exc:
            raise ServeError(f"{path!r} is not a notebook, a .py file or an importable module: {exc}.",
                             hint="Give a path like notebooks/bot.ipynb or app.py.") from None
    return find_app(ns, app, source=str(path))


def wsgi_app(app: App) -> Any:
    """The WSGI callable that serves ``app``: ``app.flask``, the same one ``app.serve()`` and
    ``app.test_client()`` run (so routes and hooks added to it are served in production too)."""
    return app.flask
