"""Fixture files are never replaced by accident: names continue from what is on disk (a new kernel
session does not start again at 1), a name in use gets the next free one, and a fixture is replaced
only on purpose (``overwrite=True`` with its name)."""

from __future__ import annotations

import json
import threading

import pytest

import toolkit as tk
from toolkit import testing
from toolkit.errors import FixtureError


def _bot(greeting: str = "Hello") -> tk.App:
    app = tk.App(f"fx-{greeting}")

    @app.handler("/greet")
    def greet(name: str):
        return f"{greeting} {name}!"

    @app.handler("/orders/<order_id>")
    def orders(order_id: str):
        return f"Order {order_id}"

    return app


def _said(path) -> str:
    return json.loads(path.read_text())["response"]["body"]["messages"][0]["config"]["textMessages"][0]["text"]


def test_a_new_kernel_session_continues_the_numbers_on_disk(tmp_path):
    first = _bot()  # kernel session 1
    first.call("/greet", {"name": "Ada"})
    first.call("/orders/A-1", {})
    assert [p.name for p in testing.save_fixtures(first.log.entries(), tmp_path)] == [
        "greet-1.json", "orders-2.json"]
    second = _bot()  # kernel session 2: its log ids start at 1 again
    second.call("/greet", {"name": "Bo"})
    second.call("/greet", {"name": "Cy"})
    assert second.log.entries()[0].id == 1
    paths = testing.save_fixtures(second.log.entries(), tmp_path)
    assert [p.name for p in paths] == ["greet-3.json", "greet-4.json"]
    assert [_said(tmp_path / f"greet-{n}.json") for n in (1, 3, 4)] == ["Hello Ada!", "Hello Bo!", "Hello Cy!"]
    assert [json.loads(p.read_text())["name"] for p in paths] == ["greet-3", "greet-4"]  # name == file


@pytest.mark.parametrize("taken,given,expected", [
    (["ada"], "ada", "ada-2.json"),
    (["ada", "ada-2"], "ada", "ada-3.json"),
    (["bo-b"], "bo/b", "bo-b-2.json"),
    (["greet-1"], "greet-1", "greet-1-2.json"),
])
def test_a_name_in_use_gets_the_next_free_one(tmp_path, taken, given, expected):
    for name in taken:
        (tmp_path / f"{name}.json").write_text('{"kept": true}')
    app = _bot()
    app.call("/greet", {"name": "Ada"})
    (path,) = testing.save_fixtures(app.log.last(), tmp_path, names=[given])
    assert path.name == expected
    assert all(json.loads((tmp_path / f"{n}.json").read_text()) == {"kept": True} for n in taken)


def test_save_again_after_a_failing_check_adds_a_file_and_overwrite_replaces_on_purpose(tmp_path):
    app = _bot()
    app.call("/greet", {"name": "Ada"})
    (path,) = testing.save_fixtures(app.log.last(), tmp_path, app=app)
    edited = _bot("Good morning,")
    report = testing.check_folder(edited, tmp_path)
    assert not report and "names=['greet-1'], overwrite=True" in str(report)
    (beside,) = testing.save_fixtures(edited.log.last(), tmp_path, app=edited)  # "save again"
    assert beside.name == "greet-2.json" and _said(path) == "Hello Ada!"  # the old one is untouched
    beside.unlink()
    (replaced,) = testing.save_fixtures(edited.log.last(), tmp_path, app=edited, names=["greet-1"],
                                        overwrite=True)
    assert replaced == path and _said(path) == "Good morning, Ada!"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["greet-1.json"]
    assert testing.check_folder(edited, tmp_path)


def test_overwrite_needs_names(tmp_path):
    app = _bot()
    app.call("/greet", {"name": "Ada"})
    with pytest.raises(FixtureError, match="needs the names") as info:
        testing.save_fixtures(app.log.last(), tmp_path, overwrite=True)
    assert "overwrite=True" in info.value.hint
    assert not list(tmp_path.iterdir())


def test_concurrent_saves_never_share_a_name(tmp_path):
    app = _bot()
    for i in range(8):
        app.call("/greet", {"name": f"n{i}"})
    entries, written, errors = app.log.entries(), [], []

    def save(i: int) -> None:
        try:
            written.extend(testing.save_fixtures(entries[i], tmp_path))
        except Exception as exc:  # surfaced below, not as a thread warning
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert sorted(p.name for p in written) == sorted(f"greet-{n}.json" for n in range(1, 9))
    assert sorted(_said(p) for p in written) == sorted(f"Hello n{i}!" for i in range(8))


def test_a_failed_write_leaves_no_empty_claimed_file(tmp_path, monkeypatch):
    app = _bot()
    app.call("/greet", {"name": "Ada"})
    from toolkit.testing import fixtures

    def broken(path, value):
        raise OSError("disk full")

    monkeypatch.setattr(fixtures, "write_json", broken)
    with pytest.raises(OSError, match="disk full"):
        testing.save_fixtures(app.log.last(), tmp_path)
    assert not list(tmp_path.iterdir())


def test_saving_the_same_traffic_twice_writes_the_same_files(tmp_path):
    """A re-run notebook saves its fixtures again: the folder stays as it was (no greet-3.json)."""
    first = _bot()
    first.call("/greet", {"name": "Ada"})
    first.call("/orders/A-1", {})
    paths = testing.save_fixtures(first.log.entries(), tmp_path)
    again = _bot()  # a new kernel session, the same traffic
    again.call("/greet", {"name": "Ada"})
    again.call("/orders/A-1", {})
    assert testing.save_fixtures(again.log.entries(), tmp_path) == paths
    assert sorted(p.name for p in tmp_path.iterdir()) == ["greet-1.json", "orders-2.json"]
    again.call("/greet", {"name": "Bo"})  # new traffic still gets a new file
    assert [p.name for p in testing.save_fixtures(again.log.entries(), tmp_path)] == [
        "greet-1.json", "orders-2.json", "greet-3.json"]
