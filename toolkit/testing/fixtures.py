"""Turn traffic into tests: save logged exchanges as JSON fixtures, then check that an app still
gives the same answers, from pytest or from a notebook.

A fixture file is one JSON object (secrets masked, like the log)::

    {"name": "order_status-3",
     "request": {"method": "POST", "path": "/order-status", "query": {}, "headers": {...}, "body": {...}},
     "response": {"status": 200, "body": {...}},
     "outbound": [...]}          # HTTP calls the handler made (method, url, status, ms, bodies)

In a test module, three lines make one pytest case per fixture file::

    from toolkit.testing import fixture_tests
    from mybot import app
    test_fixtures = fixture_tests("fixtures", app)

A case fails with a readable diff (``session.data.status: 'shipped' -> 'late'``).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..errors import FixtureError
from ..files import write_atomic
from ..log import Exchange, Masker
from ..log import sandbox as data_sandbox
from ..log.exchange import NOT_REACHED, REFUSED
from ..request import Incoming
from .progress import progress
from .replay import Diff, diff

if TYPE_CHECKING:
    from ..app import App

TRANSPORT_HEADERS = frozenset({"host", "content-length", "connection", "keep-alive", "accept-encoding",
                               "transfer-encoding", "te", "upgrade"})
FIXTURE_KEYS = ("name", "request", "response")


# --- saving -----------------------------------------------------------------------------------


def default_name(exchange: Exchange, folder: str | os.PathLike[str] | None = None) -> str:
    """``<handler or path>-<n>``, safe as a file name; ``n`` is the next number free in ``folder``
    (one more than the highest ``-<n>`` of its fixtures), so a new kernel session never reuses a name."""
    stem = exchange.handler or exchange.path.strip("/").replace("/", "_") or "root"
    return f"{slug(stem)}-{_highest_number(Path(folder)) + 1 if folder is not None else 1}"


_NUMBERED = re.compile(r"-(\d+)$")


def _highest_number(folder: Path) -> int:
    found = (_NUMBERED.search(p.stem) for p in folder.glob("*.json")) if folder.is_dir() else ()
    return max((int(m.group(1)) for m in found if m), default=0)


def _claim(folder: Path, name: str, numbered: bool) -> Path:
    """Create ``<folder>/<name>.json`` empty and exclusively (a concurrent save cannot take it too)
    and return it; when taken, the next free name: ``<stem>-<n+1>`` for a numbered name, else
    ``<name>-2``, ``<name>-3``, ..."""
    stem, n = (name.rsplit("-", 1)[0], int(name.rsplit("-", 1)[1])) if numbered else (name, 1)
    while True:
        path = folder / f"{stem}-{n}.json" if numbered or n > 1 else folder / f"{name}.json"
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            return path
        except FileExistsError:
            n += 1


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "fixture"


def _masker(app: App | None) -> Masker:
    return app.masker if app is not None else Masker.from_settings(Settings())


def to_fixture(exchange: Exchange, name: str | None = None, *, app: App | None = None) -> dict[str, Any]:
    """A logged exchange as a fixture dict (headers, bodies and outbound calls masked)."""
    body = exchange.body
    if isinstance(body, str) and body.startswith("…[cut: JSON nested more than"):
        raise FixtureError(
            f"The body of exchange #{exchange.id} ({exchange.method} {exchange.path}) was not kept in the "
            "log: it nests deeper than the max_body_depth setting, so it cannot be replayed from a fixture.",
            hint="Test a too-deep body with app.test_client() or app.handle(toolkit.Incoming(...)) and a "
            "body you build in the test; save fixtures of the other exchanges.")
    if isinstance(body, str) and "…[cut:" in body:
        raise FixtureError(
            f"The body of exchange #{exchange.id} ({exchange.method} {exchange.path}) was cut in the log, "
            "so it cannot be replayed from a fixture.",
            hint="Raise the log_body_bytes setting (app.configure(log_body_bytes=...)) and send the "
            "request again, then save that exchange.")
    mask = _masker(app)
    headers = {k: v for k, v in mask.headers(exchange.headers).items() if k.lower() not in TRANSPORT_HEADERS}
    return {
        "name": name or default_name(exchange),
        "request": {"method": exchange.method, "path": exchange.path, "query": dict(exchange.query),
                    "headers": headers, "body": mask(body), "access": exchange.access},
        "response": {"status": exchange.status, "body": mask(exchange.response)},
        "outbound": mask([dict(call) for call in exchange.outbound]),
    }


def write_json(path: Path, value: Any) -> None:
    """Write JSON atomically: a temp file in the same folder, then ``os.replace``."""
    write_atomic(path, (json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8"))


@dataclass(frozen=True)
class NotSaved:
    """An exchange :func:`save_fixtures` left out, and why (the error's message and fix)."""

    exchange: Exchange
    reason: str

    def __str__(self) -> str:
        return f"#{self.exchange.id} {self.exchange.method} {self.exchange.path}: {self.reason}"


class Saved(list[Path]):
    """What :func:`save_fixtures` returns: the paths written (a list), plus ``left_out``: the
    exchanges it could not save, each with its reason."""

    def __init__(self, paths: Iterable[Path] = (), left_out: Iterable[NotSaved] = ()) -> None:
        super().__init__(paths)
        self.left_out = list(left_out)


def save_fixtures(exchanges: Exchange | Iterable[Exchange], folder: str | os.PathLike[str] = "fixtures",
                  *, app: App | None = None, names: Iterable[str] | None = None,
                  overwrite: bool = False) -> Saved:
    """Save exchanges as ``<folder>/<name>.json``, one file each, and return the paths written.

    One exchange that cannot be saved (its body was cut or too deep in the log, or will not encode)
    raises :class:`FixtureError` when given alone; among several, the others are saved and it is
    listed in the answer's ``left_out`` with the reason (``saved.left_out``).

    A file is never replaced by accident: default names take the next number free on disk
    (``order_status-7``), and a given name already in use gets ``-2``, ``-3``, ... Saving the same
    traffic again writes nothing new: with default names, an exchange whose fixture (request, answer,
    outbound calls) is already in ``folder`` returns that file's path, so a re-run notebook leaves
    the folder as it was. To update a
    fixture on purpose (its answer changed and the new one is right), pass its name with
    ``overwrite=True``: that file is replaced. ``app`` supplies the masking settings.
    """
    items = [exchanges] if isinstance(exchanges, Exchange) else list(exchanges)
    chosen = list(names) if names is not None else None
    if chosen is not None and len(chosen) != len(items):
        raise FixtureError(f"save_fixtures got {len(items)} exchanges but {len(chosen)} names.",
                           hint="Give one name per exchange, or leave names out.")
    if overwrite and chosen is None:
        raise FixtureError("save_fixtures(overwrite=True) needs the names of the fixtures to replace.",
                           hint="E.g. save_fixtures(app.log.last(), folder, names=['order_status-3'], "
                           "overwrite=True).")
    target = Path(folder)
    alone = isinstance(exchanges, Exchange)
    left_out: list[NotSaved] = []
    kept: list[tuple[Exchange, dict[str, Any]]] = []
    for i, e in enumerate(items):
        try:
            fx = to_fixture(e, slug(chosen[i]) if chosen else None, app=app)
            json.dumps(fx, ensure_ascii=False, default=str)  # encodes (not too deep)
        except (FixtureError, ValueError, TypeError, RecursionError) as exc:
            if alone:
                raise
            why = (f"{exc.message} {exc.hint}" if isinstance(exc, FixtureError)
                   else f"{type(exc).__name__}: {exc}")
            left_out.append(NotSaved(e, why))
            continue
        kept.append((e, fx))
    target.mkdir(parents=True, exist_ok=True)
    paths = Saved(left_out=left_out)
    saved = _contents(target) if chosen is None else {}
    for exchange, fx in kept:
        same = saved.get(_content_key(fx))
        if same is not None:
            paths.append(same)
            continue
        if overwrite:
            path = target / f"{fx['name']}.json"
        elif chosen is None:
            path = _claim(target, default_name(exchange, target), numbered=True)
        else:
            path = _claim(target, fx["name"], numbered=False)
        fx["name"] = path.stem
        try:
            write_json(path, fx)
        except BaseException:
            if not overwrite:
                path.unlink(missing_ok=True)  # the claimed, still empty file
            raise
        paths.append(path)
        saved[_content_key(fx)] = path
    return paths


def _content_key(fixture: Mapping[str, Any]) -> str:
    """A fixture's content without its name: equal keys, the same test."""
    return json.dumps({k: v for k, v in fixture.items() if k != "name"}, sort_keys=True, default=str)


def _contents(folder: Path) -> dict[str, Path]:
    """The content key of each fixture already in ``folder`` (files that do not parse are skipped)."""
    found: dict[str, Path] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            data.setdefault("outbound", [])
            found.setdefault(_content_key(data), path)
    return found


# --- loading ----------------------------------------------------------------------------------


def load_fixture(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read one fixture file and check its shape (errors name the file and the fix)."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise FixtureError(f"Fixture {p.name} is not valid JSON: {exc}.",
                           hint="Fix the file by hand or save the exchange again.") from None
    problems = [] if isinstance(data, dict) else ["it is not a JSON object"]
    if not problems:
        problems = [f"'{k}' is missing" for k in FIXTURE_KEYS if k not in data]
        request, response = data.get("request"), data.get("response")
        if isinstance(request, dict):
            problems += [f"'request.{k}' is missing" for k in ("method", "path") if k not in request]
        elif request is not None:
            problems.append("'request' is not an object")
        if isinstance(response, dict) and "status" not in response:
            problems.append("'response.status' is missing")
    if problems:
        raise FixtureError(f"Fixture {p.name} is not a toolkit fixture: {'; '.join(problems)}.",
                           hint='Expected {"name", "request": {method, path, query, headers, body}, '
                           '"response": {status, body}, "outbound": [...]}; save it again with '
                           "toolkit.testing.save_fixtures.")
    data.setdefault("outbound", [])
    return data


def load_fixtures(folder: str | os.PathLike[str] = "fixtures") -> list[dict[str, Any]]:
    """Every ``*.json`` fixture in ``folder``, sorted by file name."""
    p = Path(folder)
    if not p.is_dir():
        raise FixtureError(f"No fixture folder {os.fspath(folder)!r} (looked in {p.resolve()}).",
                           hint="Save fixtures first (the log view's 'Save fixture' button or "
                           "toolkit.testing.fixtures.save_fixtures(app.log.entries(), folder)).")
    return [load_fixture(f) for f in sorted(p.glob("*.json"))]


# --- checking ---------------------------------------------------------------------------------


@dataclass
class Checked:
    """One fixture run against an app: the expected answer, the answer now, and their diff."""

    fixture: dict[str, Any]
    status: int
    body: Any
    diff: Diff

    @property
    def passed(self) -> bool:
        return not self.diff

    @property
    def name(self) -> str:
        return str(self.fixture["name"])

    def message(self) -> str:
        """The readable failure text (what changed and how to accept the change)."""
        req = self.fixture["request"]
        lines = "\n".join(f"  {c}" for c in self.diff.changes)
        return (f"Fixture {self.name!r} ({req['method']} {req['path']}): the answer changed.\n{lines}\n"
                "If the new answer is right, replace the fixture on purpose: save the new exchange with "
                f"toolkit.testing.save_fixtures(exchange, folder, names=[{self.name!r}], overwrite=True).")

    def __repr__(self) -> str:
        return f"<Checked {self.name}: {'passed' if self.passed else 'FAILED'}>"


def _outbound_replay(fixture: Mapping[str, Any]) -> AbstractContextManager[Any]:
    """Answer the handler's HTTP calls from the fixture's recording (``toolkit.log.outbound.replay``), so
    fixture tests never touch the network; a call missing from the recording fails the case."""
    try:
        outbound = importlib.import_module("toolkit.log.outbound")
    except ImportError:
        return nullcontext()
    replay: Callable[..., AbstractContextManager[Any]] | None = getattr(outbound, "replay", None)
    return replay(fixture.get("outbound") or []) if replay is not None else nullcontext()


def check(app: App, fixture: Mapping[str, Any], *, sandbox: bool = True) -> Checked:
    """Send a fixture's request to ``app`` (in-process) and compare the answer with the saved one.

    HTTP calls are answered from the fixture's recording; table writes go to a throwaway copy
    (:func:`toolkit.log.sandbox`) unless ``sandbox=False``."""
    req, expected = fixture["request"], fixture["response"]
    body = req.get("body")
    raw = b"" if body is None else body.encode() if isinstance(body, str) else json.dumps(body).encode()
    with _outbound_replay(fixture), data_sandbox() if sandbox else nullcontext():
        response = app.handle(Incoming(req["method"], req["path"], req.get("query") or {},
                                       req.get("headers") or {}, raw, source="fixture"),
                              check_access=_check_access(req, expected))
    got = _masker(app).decode(response.data)  # masked and cut like the saved answer
    found = diff(expected.get("body"), got, old_status=expected["status"], new_status=response.status)
    return Checked(dict(fixture), response.status, got, found)


def _check_access(request: Mapping[str, Any], expected: Mapping[str, Any]) -> bool:
    """A fixture's request is checked by access control unless it passed it when it was recorded (or
    was an in-process call); fixtures saved before ``access`` was recorded: unless it was refused."""
    access = request.get("access")
    return expected["status"] == 401 or access in (REFUSED, NOT_REACHED)


def assert_fixture(app: App, fixture: Mapping[str, Any]) -> None:
    """Raise ``AssertionError`` with a readable diff when the app's answer differs."""
    result = check(app, fixture)
    if not result.passed:
        raise AssertionError(result.message())


@dataclass
class Report:
    """The result of :func:`check_folder`: one :class:`Checked` per fixture."""

    results: list[Checked]

    @property
    def passed(self) -> list[Checked]:
        return [r for r in self.results if r.passed]

    @property
    def failed(self) -> list[Checked]:
        return [r for r in self.results if not r.passed]

    def __bool__(self) -> bool:
        return not self.failed

    def __str__(self) -> str:
        head = f"{len(self.passed)} passed, {len(self.failed)} failed"
        return "\n\n".join([head] + [r.message() for r in self.failed])

    def __repr__(self) -> str:
        return f"<Report: {len(self.passed)} passed, {len(self.failed)} failed>"

    def _repr_html_(self) -> str:
        from ..html.templates import macro
        from .replay import change_rows

        results = [(r.passed, r.name, r.fixture["request"]["method"], r.fixture["request"]["path"],
                    [] if r.passed else change_rows(r.diff)) for r in self.results]
        return str(macro("testing.html", "fixtures_report")(len(self.passed), len(self.failed), results))


def check_folder(app: App, folder: str | os.PathLike[str] = "fixtures", *, sandbox: bool = True) -> Report:
    """Run every fixture of ``folder`` against ``app`` and report (no pytest needed); a progress bar
    shows from 20 fixtures on (the ``progress`` setting)."""
    fixtures = load_fixtures(folder)
    chosen = progress(fixtures, "Checking fixtures", app.settings.progress)
    return Report([check(app, f, sandbox=sandbox) for f in chosen])


# --- pytest -----------------------------------------------------------------------------------


def _resolve(app: App | Callable[[], App]) -> App:
    from ..app import App

    return app if isinstance(app, App) else app()


def fixture_tests(folder: str | os.PathLike[str], app: App | Callable[[], App] | None = None) -> Any:
    """A pytest test function with one case per fixture file in ``folder``.

    ``app`` is the App, a function returning it, or ``None`` to use a pytest fixture named
    ``toolkit_app`` (define it in ``conftest.py``). Bind the result to a ``test_*`` name.
    """
    import pytest

    fixtures = load_fixtures(folder)
    params = [pytest.param(f, id=str(f["name"])) for f in fixtures] or [pytest.param(
        None, id="none", marks=pytest.mark.skip(reason=f"No fixtures in {os.fspath(folder)!r} yet: save "
                                                "some with toolkit.testing.fixtures.save_fixtures."))]

    def run(case: dict[str, Any], target: App) -> None:
        result = check(target, case)
        if not result.passed:
            pytest.fail(result.message(), pytrace=False)

    if app is None:
        @pytest.mark.parametrize("case", params)
        def test_fixture(case: dict[str, Any], toolkit_app: App) -> None:
            run(case, toolkit_app)
    else:
        @pytest.mark.parametrize("case", params)
        def test_fixture(case: dict[str, Any]) -> None:
            run(case, _resolve(app))

    return test_fixture


TEST_MODULE = '''"""One pytest case per fixture in {folder!r} (written by toolkit.testing.fixtures)."""
from toolkit.testing import fixture_tests

test_fixture = fixture_tests({folder!r})
'''


@contextlib.contextmanager
def _own_pytest_env() -> Iterator[None]:
    """For one in-process pytest run: no plugins loaded through entry points (loading them all took
    10 s in a kernel, 0.3 s without) and no ``PYTEST_ADDOPTS`` (options meant for another run, e.g.
    nbval's, would break this one); the environment is restored afterwards."""
    saved = {name: os.environ.get(name) for name in ("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_ADDOPTS")}
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    os.environ.pop("PYTEST_ADDOPTS", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_tests(app: App, folder: str | os.PathLike[str] = "fixtures", *args: str) -> int:
    """Run the fixtures of ``folder`` as pytest cases against ``app`` (from a notebook cell).

    Prints pytest's report and returns its exit code (0: all passed). ``args`` go to pytest. The run
    loads no plugin through entry points (pass ``"-p", "name"`` to load one) and ignores
    ``PYTEST_ADDOPTS``; the environment is as before when it returns.

    >>> run_tests(app, "fixtures")  # doctest: +SKIP
    3 passed in 0.12s
    """
    import pytest

    class AppPlugin:
        @pytest.fixture(name="toolkit_app")
        def toolkit_app(self) -> App:
            return app

    with tempfile.TemporaryDirectory(prefix="toolkit-fixtures-") as tmp:
        # A module name of its own for each run: pytest (importlib mode) reuses a module already
        # imported under the same name, e.g. the previous run's cases or a test_fixtures.py on sys.path.
        module = Path(tmp, "test_" + re.sub(r"\W", "_", Path(tmp).name) + ".py")
        module.write_text(TEST_MODULE.format(folder=str(Path(folder).resolve())))
        options = ["-q", "-p", "no:cacheprovider", "--import-mode=importlib", f"--rootdir={tmp}",
                   "-o", "addopts=", "--color=no", "-rN", "--capture=sys",
                   "-p", "no:faulthandler", *args]
        out = io.StringIO()
        with contextlib.redirect_stdout(out), _own_pytest_env():  # printed in one piece below
            code = pytest.main([*options, str(module)], plugins=[AppPlugin()])
    print(out.getvalue().strip())
    return int(code)
