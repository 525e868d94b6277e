"""Fixtures from traffic (masked), checking an app against them, and the generated pytest cases."""

from __future__ import annotations

import json

import pytest

import toolkit as tk
from toolkit import testing
from toolkit.errors import FixtureError
from toolkit.log import note_outbound

pytest_plugins = ["pytester"]

BOT = '''
import toolkit as tk

app = tk.App("bot")


@app.handler("/greet")
def greet(name: str = "there"):
    return tk.Reply(session={"user": {"name": name}}, messages=[tk.text(f"Hello {name}!")],
                    next_dialogstate="menu")
'''
EDITED = BOT.replace('f"Hello {name}!"', 'f"Good morning, {name}!"')


def _bot(source: str = BOT) -> tk.App:
    namespace: dict = {}
    exec(source, namespace)
    return namespace["app"]


# --- saving ------------------------------------------------------------------------------------


def test_fixture_format_with_secrets_masked(tmp_path):
    app = tk.App("shop", sensitive_keys="password,token,card_number")

    @app.handler("/pay")
    def pay(amount: int, card_number: str = ""):
        note_outbound({"method": "POST", "url": "https://psp.test/charge", "status": 201, "ms": 12.5,
                       "headers": {"Authorization": "Bearer live-key"},
                       "request": {"amount": amount, "card_number": card_number}, "response": {"ok": True}})
        return tk.text(f"Paid {amount}")

    app.call("/pay", {"amount": 5, "card_number": "4111111111111111"}, query={"lang": "nl"},
             headers={"Authorization": "Bearer abc.def.ghi", "X-Api-Token": "t0k", "Host": "x",
                      "Content-Length": "40", "X-Trace": "keep-me"})
    (path,) = testing.save_fixtures(app.log.last(), tmp_path / "fx", app=app)
    assert path.name == "pay-1.json"
    fixture = json.loads(path.read_text())
    assert list(fixture) == ["name", "request", "response", "outbound"]
    assert fixture["name"] == "pay-1"
    assert fixture["request"] == {
        "method": "POST", "path": "/pay", "query": {"lang": "nl"},
        "headers": {"Authorization": "***", "X-Api-Token": "***", "X-Trace": "keep-me"},
        "body": {"amount": 5, "card_number": "***"}, "access": "skipped",
    }
    assert fixture["response"]["status"] == 200
    assert fixture["response"]["body"]["messages"][0]["config"]["textMessages"][0]["text"] == "Paid 5"
    (call,) = fixture["outbound"]
    assert call["headers"]["Authorization"] == "***" and call["request"]["card_number"] == "***"
    text = path.read_text()
    assert "4111" not in text and "abc.def" not in text and "live-key" not in text and "t0k" not in text


def test_save_names_overwrites_and_leaves_no_temp_files(app, tmp_path):
    app.call("/greet", {"name": "Ada"})
    app.call("/greet", {"name": "Bo"})
    paths = testing.save_fixtures(app.log.entries(), tmp_path, names=["ada", "bo/b"])
    assert [p.name for p in paths] == ["ada.json", "bo-b.json"]
    testing.save_fixtures(app.log.entries()[:1], tmp_path, names=["ada"], overwrite=True)  # replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ada.json", "bo-b.json"]
    with pytest.raises(FixtureError, match="2 exchanges but 1 names"):
        testing.save_fixtures(app.log.entries(), tmp_path, names=["one"])


def test_a_body_cut_in_the_log_cannot_become_a_fixture(app, tmp_path):
    app.configure(log_body_bytes=64)
    app.call("/greet", {"name": "x" * 200})
    with pytest.raises(FixtureError, match="was cut in the log") as info:
        testing.save_fixtures(app.log.last(), tmp_path)
    assert "log_body_bytes" in str(info.value)
    assert not list(tmp_path.iterdir())


# --- loading -----------------------------------------------------------------------------------


def test_load_errors_name_the_file_and_the_fix(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(FixtureError, match="bad.json is not valid JSON"):
        testing.load_fixtures(tmp_path)
    (tmp_path / "bad.json").write_text(json.dumps({"name": "x", "request": {"path": "/a"}}))
    with pytest.raises(FixtureError) as info:
        testing.load_fixtures(tmp_path)
    assert "'response' is missing; 'request.method' is missing" in str(info.value)
    assert "save_fixtures" in str(info.value)
    with pytest.raises(FixtureError, match="No fixture folder 'nowhere'"):
        testing.load_fixtures("nowhere")


# --- checking ----------------------------------------------------------------------------------


def test_check_passes_then_fails_with_a_readable_diff(tmp_path):
    app = _bot()
    app.call("/greet", {"name": "Ada"})
    testing.save_fixtures(app.log.entries(), tmp_path, app=app)
    report = testing.check_folder(app, tmp_path)
    assert report and repr(report) == "<Report: 1 passed, 0 failed>"
    edited = _bot(EDITED)
    report = testing.check_folder(edited, tmp_path)
    assert not report and repr(report) == "<Report: 0 passed, 1 failed>"
    assert str(report) == (
        "0 passed, 1 failed\n\n"
        "Fixture 'greet-1' (POST /greet): the answer changed.\n"
        "  messages[0].textMessages[0].text: 'Hello Ada!' -> 'Good morning, Ada!'\n"
        "If the new answer is right, replace the fixture on purpose: save the new exchange with "
        "toolkit.testing.save_fixtures(exchange, folder, names=['greet-1'], overwrite=True).")
    assert '<span class="tk-icon" role="img" aria-label="failed" title="failed">✘</span>' in report._repr_html_()
    with pytest.raises(AssertionError, match="'Hello Ada!' -> 'Good morning, Ada!'"):
        testing.assert_fixture(edited, testing.load_fixtures(tmp_path)[0])
    assert edited.log.last().source == "fixture"


def test_check_compares_masked_answers(tmp_path):
    app = tk.App("login")

    @app.handler("/login")
    def login(user: str):
        return {"session": {"namespace": "auth", "data": {"user": user, "token": f"tok-{user}"}}}

    app.call("/login", {"user": "ada"})
    testing.save_fixtures(app.log.entries(), tmp_path, app=app)
    assert "tok-ada" not in next(tmp_path.iterdir()).read_text()
    assert testing.check_folder(app, tmp_path)  # the new answer is masked the same way


def test_outbound_calls_are_answered_from_the_recording(tmp_path):
    import requests

    upstream = tk.App("upstream")
    upstream.add_handler("/stock", lambda sku: {"session": {"namespace": "s", "data": {"sku": sku, "n": 3}}})
    app = tk.App("shop")

    @app.handler("/stock")
    def stock(sku: str):
        data = requests.post(server.url + "/stock", json={"sku": sku}, timeout=5).json()
        return tk.text(f"{data['session']['data']['n']} in stock")

    server = upstream.serve(port=0)
    try:
        app.call("/stock", {"sku": "P-1"})
    finally:
        server.stop()
    assert len(app.log.last().outbound) == 1
    testing.save_fixtures(app.log.last(), tmp_path, app=app)
    assert json.loads(next(tmp_path.iterdir()).read_text())["outbound"][0]["status"] == 200
    assert testing.check_folder(app, tmp_path)  # the upstream server is gone: answered offline


# --- pytest ------------------------------------------------------------------------------------


def _project(pytester, test_module: str) -> None:
    pytester.makepyfile(bot=BOT, test_bot=test_module)
    app = _bot()
    app.call("/greet", {"name": "Ada"})
    app.call("/greet", query={"name": "Bo"})
    testing.save_fixtures(app.log.entries(), pytester.path / "fixtures", app=app)


def test_generated_tests_pass_then_fail_with_a_readable_diff(pytester):
    _project(pytester, 'from toolkit.testing import fixture_tests\nfrom bot import app\n'
                       'test_fixtures = fixture_tests("fixtures", app)\n')
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_fixtures?greet-1? PASSED*", "*test_fixtures?greet-2? PASSED*"])
    pytester.makepyfile(bot=EDITED)  # the analyst edits the handler
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "Fixture 'greet-1' (POST /greet): the answer changed.",
        "  messages[0].textMessages[0].text: 'Hello Ada!' -> 'Good morning, Ada!'",
        "If the new answer is right, replace the fixture on purpose: save the new exchange with "
        "toolkit.testing.save_fixtures(exchange, folder, names=['greet-1'], overwrite=True).",
    ])
    assert "Traceback" not in result.stdout.str() and "testing.py" not in result.stdout.str()


def test_generated_tests_can_take_the_app_from_a_conftest_fixture(pytester):
    _project(pytester, 'from toolkit.testing import fixture_tests\n'
                       'test_fixtures = fixture_tests("fixtures")\n')
    pytester.makeconftest("import pytest\n\n@pytest.fixture\ndef toolkit_app():\n"
                          "    from bot import app\n    return app\n")
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_an_empty_folder_is_skipped_with_the_way_to_fill_it(pytester):
    (pytester.path / "fixtures").mkdir()
    pytester.makepyfile(bot=BOT, test_bot='from toolkit.testing import fixture_tests\nfrom bot import app\n'
                                          'test_fixtures = fixture_tests("fixtures", app)\n')
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*No fixtures in 'fixtures' yet: save some with*"])


def test_run_tests_runs_the_folder_it_is_given_each_time(tmp_path, capsys):
    import test_fixtures  # noqa: F401 - a module of the name run_tests once gave its cases, imported

    app = tk.App("twice")
    app.add_handler("/greet", lambda name="there": f"Hello {name}!")
    for n, folder in enumerate(("one", "two"), start=1):
        for i in range(n):
            app.call("/greet", {"name": f"{folder}-{i}"})
        testing.save_fixtures(app.log.entries()[-n:], tmp_path / folder, app=app)
    assert testing.run_tests(app, tmp_path / "one") == 0 and "1 passed" in capsys.readouterr().out
    assert testing.run_tests(app, tmp_path / "two") == 0 and "2 passed" in capsys.readouterr().out


def test_run_tests_loads_no_plugin_by_entry_point_ignores_pytest_addopts_and_restores_the_env(
        tmp_path, monkeypatch, capsys):
    import os

    monkeypatch.setenv("PYTEST_ADDOPTS", "--no-such-option-anywhere")  # e.g. left by nbval's run
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    seen: list[tuple[str | None, str | None]] = []
    app = tk.App("env")

    @app.handler("/greet")
    def greet(name: str = "there"):
        seen.append((os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"), os.environ.get("PYTEST_ADDOPTS")))
        return f"Hello {name}!"

    app.call("/greet", {"name": "Ada"})
    testing.save_fixtures(app.log.last(), tmp_path / "fixtures", app=app)
    seen.clear()
    assert testing.run_tests(app, tmp_path / "fixtures") == 0, capsys.readouterr().out
    assert "1 passed" in capsys.readouterr().out
    assert seen == [("1", None)]  # during the run: no autoload, no PYTEST_ADDOPTS
    assert os.environ["PYTEST_ADDOPTS"] == "--no-such-option-anywhere"  # afterwards: as it was
    assert "PYTEST_DISABLE_PLUGIN_AUTOLOAD" not in os.environ
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "0")
    monkeypatch.delenv("PYTEST_ADDOPTS")
    assert testing.run_tests(app, tmp_path / "fixtures") == 0
    assert os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] == "0" and "PYTEST_ADDOPTS" not in os.environ
