"""``python -m toolkit export NOTEBOOK -o app.py``: a notebook as a standalone module.

The module keeps the notebook's imports, data loading and handlers, leaves out what only makes
sense in a notebook (``app.serve()``, ``server.expose()``, widgets, ``display``, demo ``app.call``s,
magics, cells marked ``# toolkit: skip``), routes the data paths the notebook wrote relative to its
own folder through ``_path()`` so they work from anywhere, and ends with ``wsgi``, the WSGI callable
that ``gunicorn app:wsgi`` serves.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ServeError
from ..files import write_atomic
from .loader import Cell, notebook_cells

MARK = "# Exported from a notebook by `python -m toolkit export`."
NOTEBOOK_ONLY_CALLS = {"serve", "expose", "unexpose", "log_view", "chat_view", "display", "LogView",
                       "ChatView", "get_ipython", "run_tests"}
APP_DEMO_CALLS = {"call", "test_client"}
MAGIC = re.compile(r"^\s*(%|!|\w[\w\s,]*=\s*[%!])|^\s*[\w.]+\?{1,2}\s*$")
CELL_MAGICS_KEPT = ("%%time", "%%capture")


@dataclass
class Exported:
    """What an export wrote: the module text, the App variable, and the statements left out."""

    source: str
    app_var: str
    left_out: list[str] = field(default_factory=list)


def _strip_magics(cell: Cell) -> tuple[str, list[str]]:
    """Comment out magics and shell escapes (``%time stmt`` keeps ``stmt``). Returns (code, removed)."""
    lines = cell.source.splitlines()
    removed: list[str] = []
    if lines and lines[0].startswith("%%"):
        if not lines[0].startswith(CELL_MAGICS_KEPT):
            return "", [lines[0]]
        removed.append(lines.pop(0))
    out = []
    quoted = in_strings(lines)
    for number, line in enumerate(lines):
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if number in quoted:  # a line of a triple-quoted string is text, whatever it starts with
            out.append(line)
        elif stripped.startswith("%time "):
            out.append(indent + stripped[len("%time "):])
        elif MAGIC.search(line) and not stripped.startswith("#"):
            removed.append(stripped)
            out.append(f"{indent}{'pass  ' if indent else ''}# notebook only: {stripped}")
        else:
            out.append(line)
    return "\n".join(out), removed


def in_strings(lines: list[str]) -> set[int]:
    '''The numbers of the lines that start inside a triple-quoted string (their ``!`` or ``%`` is text).

    >>> sorted(in_strings(['s = """', '!not a shell escape', '"""', '!ls']))
    [1, 2]
    '''
    inside: set[int] = set()
    quote = ""  # the open triple quote, if any
    for number, line in enumerate(lines):
        if quote:
            inside.add(number)
        i = 0
        while i < len(line):
            if quote:
                end = _closing(line, i, quote)
                if end < 0:
                    break
                quote, i = "", end + 3
            elif line[i] == "#":
                break
            elif line.startswith(('"""', "'''"), i):
                quote, i = line[i:i + 3], i + 3
            elif line[i] in "'\"":
                end = _closing(line, i + 1, line[i])
                i = len(line) if end < 0 else end + 1
            else:
                i += 1
    return inside


def _closing(line: str, start: int, quote: str) -> int:
    """Where ``quote`` next closes in ``line`` from ``start`` (not escaped by a backslash), or -1."""
    i = line.find(quote, start)
    while i >= 0:
        backslashes = len(line[:i]) - len(line[:i].rstrip("\\"))
        if backslashes % 2 == 0:
            return i
        i = line.find(quote, i + 1)
    return -1


def _called_name(node: ast.Call) -> str | None:
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None


def _is_app_constructor(value: ast.expr | None) -> bool:
    return isinstance(value, ast.Call) and _called_name(value) == "App"


class _Scan(ast.NodeVisitor):
    """Does a top-level statement touch the notebook-only world? (function bodies are not entered)"""

    def __init__(self, apps: set[str], tainted: set[str]) -> None:
        self.apps, self.tainted, self.hit = apps, tainted, False

    def visit_FunctionDef(self, node: ast.AST) -> None:  # noqa: N802 - ast visitor naming
        return None

    visit_AsyncFunctionDef = visit_Lambda = visit_ClassDef = visit_FunctionDef  # noqa: N815

    def visit_Name(self, node: ast.Name) -> None:  # noqa: N802
        self.hit = self.hit or node.id in self.tainted

    def visit_Call(self, node: ast.Call) -> None:  # noqa: N802
        name = _called_name(node)
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        if name in NOTEBOOK_ONLY_CALLS or (name in APP_DEMO_CALLS and isinstance(receiver, ast.Name)
                                           and receiver.id in self.apps):
            self.hit = True
        self.generic_visit(node)


def _targets(stmt: ast.stmt) -> set[str]:
    names: set[str] = set()
    targets = stmt.targets if isinstance(stmt, ast.Assign) else \
        [stmt.target] if isinstance(stmt, ast.AnnAssign | ast.AugAssign | ast.For | ast.AsyncFor) else []
    if isinstance(stmt, ast.With | ast.AsyncWith):
        targets = [i.optional_vars for i in stmt.items if i.optional_vars is not None]
    for t in targets:
        names |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def _notebook_only(stmt: ast.stmt, apps: set[str], tainted: set[str]) -> bool:
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Import | ast.ImportFrom):
        return False
    if isinstance(stmt, ast.Expr) and not isinstance(stmt.value, ast.Call | ast.Await):
        return not (isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str))
    scan = _Scan(apps, tainted)
    scan.visit(stmt)
    return scan.hit


def _is_data_path(text: str, base: Path) -> bool:
    """A relative path the notebook reads or writes: has a '/' or a file suffix, and exists (or its
    folder does)."""
    if not text or len(text) > 300 or "\n" in text or "://" in text or os.path.isabs(text):
        return False
    if not re.search(r"[A-Za-z0-9]", text) or not ("/" in text or re.search(r"\.\w{1,8}$", text)):
        return False
    target = base / text
    return target.exists() or ("/" in text.rstrip("/") and target.parent.is_dir()
                               and target.parent != base)


def _path_spans(tree: ast.AST, base: Path) -> list[tuple[int, int, int]]:
    """(line, start, end) of data-path string literals, and of f-strings that start with one."""
    spans: list[tuple[int, int, int]] = []
    inside_fstring = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant | ast.JoinedStr):
            continue
        text = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in inside_fstring:
            text = node.value
        elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
            text = str(node.values[0].value)
            text = text if "/" in text else None
        if text is not None and node.lineno == node.end_lineno and _is_data_path(text, base):
            spans.append((node.lineno, node.col_offset, node.end_col_offset or 0))
    return spans


def _first_line(stmt: ast.stmt) -> int:
    decorators = getattr(stmt, "decorator_list", [])
    return min([stmt.lineno] + [d.lineno for d in decorators])


def _cell_module(cell: Cell, base: Path, st: _State) -> str:
    """The cell's code as it goes into the module: notebook-only statements commented out, data
    paths wrapped in ``_path()``; comments and blank lines kept."""
    code, removed = _strip_magics(cell)
    st.left_out += removed
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise ServeError(f"Cell {cell.number} is not valid Python: {exc.msg} (line {exc.lineno}).",
                         hint="Fix the cell, or put '# toolkit: skip' on its first line.") from None
    lines = code.splitlines()
    dropped: list[tuple[int, int]] = []
    spans: list[tuple[int, int, int]] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call) \
                and _is_app_constructor(stmt.value):
            arg = stmt.value.args[0] if stmt.value.args else None
            for var in _targets(stmt):
                st.apps.add(var)
                st.names[var] = str(arg.value) if isinstance(arg, ast.Constant) else var
        if _notebook_only(stmt, st.apps, st.tainted):
            st.tainted |= _targets(stmt)
            dropped.append((_first_line(stmt), stmt.end_lineno or stmt.lineno))
        else:
            spans += _path_spans(stmt, base)
    for lineno, start, end in sorted(spans, reverse=True):
        raw = lines[lineno - 1].encode()
        lines[lineno - 1] = (raw[:start] + b"_path(" + raw[start:end] + b")" + raw[end:]).decode()
    for start, last in sorted(dropped, reverse=True):
        text = "\n".join(lines[start - 1: last]).strip()
        st.left_out.append(text.splitlines()[0])
        more = " ..." if "\n" in text else ""
        lines[start - 1: last] = [f"# notebook only: {text.splitlines()[0]}{more}"]
    return "\n".join(lines).strip()


@dataclass
class _State:
    apps: set[str] = field(default_factory=set)  # variables holding an App
    names: dict[str, str] = field(default_factory=dict)  # App variable -> the App's name
    tainted: set[str] = field(default_factory=set)  # variables set by notebook-only statements
    left_out: list[str] = field(default_factory=list)


def export_source(notebook: str | os.PathLike[str], out: str | os.PathLike[str],
                  app: str | None = None) -> Exported:
    """The text of the module ``out`` that :func:`export` writes for ``notebook``."""
    nb = Path(notebook).resolve()
    base, out_dir = nb.parent, Path(out).resolve().parent
    st = _State()
    chunks = []
    for cell in notebook_cells(nb):
        try:
            body = _cell_module(cell, base, st)
        except ServeError as exc:
            exc.message = f"{nb.name}: {exc.message}"
            raise
        if body and not all(ln.startswith("# notebook only: ") for ln in body.splitlines()):
            chunks.append(f"# --- cell {cell.number} ".ljust(100, "-") + "\n" + body + "\n")
    var = _pick_app(st.apps, st.names, app, nb.name)
    rel = Path(os.path.relpath(base, out_dir)).as_posix()
    head = HEADER.format(mark=MARK, name=nb.name, out=Path(out).stem, rel=rel)
    return Exported(head + "\n\n".join(chunks) + FOOTER.format(var=var), var, st.left_out)


def _pick_app(apps: set[str], names: dict[str, str], wanted: str | None, where: str) -> str:
    chosen = sorted(v for v in apps if wanted in (None, v, names.get(v)))
    if len(chosen) == 1:
        return chosen[0]
    if not chosen:
        what = f"no App named {wanted!r}" if wanted else "no `app = toolkit.App(...)`"
        raise ServeError(f"{where} has {what} at the top level of a cell.",
                         hint="Create the App in a cell: app = toolkit.App('my-bot'); or pass --app.")
    raise ServeError(f"{where} creates several Apps: {', '.join(chosen)}.",
                     hint="Choose one with --app NAME (the variable or the App's name).")


def export(notebook: str | os.PathLike[str], out: str | os.PathLike[str] = "app.py", *,
           app: str | None = None, force: bool = False) -> Exported:
    """Write the module (atomically). An existing file is replaced only if an earlier export wrote
    it, or with ``force=True``."""
    nb, target = Path(notebook), Path(out)
    if target.suffix != ".py":
        raise ServeError(f"The output {target} must be a .py file.", hint="Use -o app.py.")
    if target.exists() and not force and MARK not in target.read_text(encoding="utf-8", errors="replace"):
        raise ServeError(f"{target} exists and was not written by toolkit export.",
                         hint="Choose another -o, or pass --force to replace it.")
    result = export_source(nb, target, app)
    compile(result.source, str(target), "exec")
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, result.source.encode("utf-8"))
    return result


HEADER = '''"""{out}: the handlers of {name}, as a module.

{mark}
Serve it:  gunicorn {out}:wsgi --workers 4      (or: python -m toolkit serve {out}.py)
Re-export after changing the notebook: edits made here are overwritten.
"""

import os as _os

# The notebook's folder, seen from this file: data paths the notebook wrote relative to it go
# through _path(), so this module works from any working directory. Move data along with it.
_HERE = _os.path.dirname(_os.path.abspath(__file__))
_NOTEBOOK_DIR = _os.path.normpath(_os.path.join(_HERE, "{rel}"))


def _path(relative):
    """A path the notebook wrote relative to its own folder, made absolute."""
    full = _os.path.normpath(_os.path.join(_NOTEBOOK_DIR, relative))
    return full + _os.sep if relative.endswith("/") else full


'''

FOOTER = '''

# --- serving ----------------------------------------------------------------------------------------
from toolkit.deploy.loader import wsgi_app  # noqa: E402

wsgi = wsgi_app({var})  # the WSGI callable: gunicorn <module>:wsgi

if __name__ == "__main__":
    from toolkit.deploy.service import run_waitress

    run_waitress(wsgi, "127.0.0.1", 8000, 4, lambda url: print(f"Serving {{{var}.name!r}} at {{url}}"))
'''
