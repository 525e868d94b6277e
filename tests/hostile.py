"""Shared by the hostile-input tests: a real server on loopback, raw requests to it, and the check
that after each bad input the server still answers and every reader of the log still copes (frame,
saved log, fixtures, the log view's filter and detail pane, replay), with no secret in any of them.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import toolkit as tk
from toolkit.errors import FixtureError
from toolkit.testing import load_fixture, save_fixtures
from toolkit.testing.replay import replay_all
from toolkit.widgets.logtable import Filter, detail_html, searchable

DEEP_MARKER = "…[cut: JSON nested more than"


@contextmanager
def serving(app: tk.App) -> Iterator[tk.Server]:
    """``app.serve(port=0)``, stopped on the way out."""
    server = app.serve(port=0)
    try:
        yield server
    finally:
        server.stop()


def send(server: tk.Server, method: str, path: str, body: bytes = b"",
         headers: dict[str, str] | None = None) -> tuple[int, dict]:
    """One request on a fresh connection to ``server.url``: the status and the JSON answer."""
    url = urlsplit(server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        res = conn.getresponse()
        return res.status, json.loads(res.read() or b"{}")
    finally:
        conn.close()


def assert_error_shape(body: dict, status: int, kind: str) -> dict:
    """The one error shape (errors.error_body); returns its ``error`` member."""
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) >= {"status", "type", "message", "handler", "hint"}, err
    assert (err["status"], err["type"]) == (status, kind), err
    assert err["message"] and err["hint"], err
    return err


def still_fine(app: tk.App, server: tk.Server, folder: Path, secrets: Iterable[str] = ()) -> None:
    """The server answers, and the whole log exports with no secret in it: the frame, a saved log,
    fixtures (every exchange but those whose body the log could not keep), the log view's text
    filter and detail pane, and a replay of everything."""
    assert send(server, "GET", "/_toolkit/health")[0] == 200
    entries = app.log.entries()
    assert entries, "nothing was logged"
    texts: list[str] = []
    frame = app.log.to_frame()
    assert len(frame) == len(entries)
    texts.append(frame.to_csv())
    n = app.log.save(folder / "log.jsonl")
    lines = (folder / "log.jsonl").read_text(encoding="utf-8").splitlines()
    assert n == len(lines) == len(entries) and all(json.loads(line) for line in lines)
    texts.append("\n".join(lines))
    for entry in entries:
        texts += [detail_html(entry), searchable(entry)]
        assert Filter(text="no such text anywhere").matches(entry) is False
        assert Filter(text=entry.path).matches(entry)
        _fixture_of(app, entry, folder / "fixtures", texts)
    replay_all(app, changed_only=False)
    found = [s for s in secrets if any(s in text for text in texts)]
    assert not found, f"secrets leaked into the log's exports: {found}"


def _fixture_of(app: tk.App, entry: tk.Exchange, folder: Path, texts: list[str]) -> None:
    """Save ``entry`` as a fixture and read it back; a body the log did not keep whole is refused, with
    the setting to change."""
    if isinstance(entry.body, str) and "…[cut:" in entry.body:  # too deep, or too long, to keep whole
        setting = "max_body_depth" if entry.body.startswith(DEEP_MARKER) else "log_body_bytes"
        try:
            save_fixtures(entry, folder, app=app)
        except FixtureError as exc:
            assert setting in str(exc) and exc.hint
            return
        raise AssertionError("a body the log did not keep whole was saved as a fixture")
    path = save_fixtures(entry, folder, app=app)[0]
    texts.append(path.read_text(encoding="utf-8"))
    assert load_fixture(path)["request"]["path"] == entry.path
