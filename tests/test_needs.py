"""tests/needs.py: outside CI a test missing Chromium or PostgreSQL skips and says how to enable it;
under CI it fails, so a broken CI set-up cannot pass by skipping."""

from __future__ import annotations

import databases
import pytest
from needs import in_ci, missing
from test_browser import _require, _skip_reason


@pytest.mark.parametrize("value, ci", [("true", True), ("1", True), ("TRUE", True), ("yes", True),
                                       ("", False), ("false", False), ("0", False), ("no", False)])
def test_in_ci_follows_the_ci_variable(value, ci):
    assert in_ci({"CI": value}) is ci
    assert in_ci({}) is False


def test_outside_ci_a_missing_need_skips_with_the_way_to_enable_it(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="run 'apt-get install x'"):
        missing("x is missing: run 'apt-get install x' to enable this test")


def test_under_ci_a_missing_need_fails_with_the_way_to_enable_it(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception) as info:
        missing("x is missing: run 'apt-get install x' to enable this test")
    assert str(info.value) == ("CI is set, so this test must run, not skip: "
                               "x is missing: run 'apt-get install x' to enable this test")


@pytest.mark.parametrize("ci, outcome", [("true", pytest.fail.Exception), ("false", pytest.skip.Exception)])
def test_a_postgresql_case_without_a_server_fails_under_ci_and_skips_outside(monkeypatch, tmp_path, ci, outcome):
    monkeypatch.setattr(databases, "POSTGRES", "")
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="set TOOLKIT_TEST_POSTGRES_URL=postgresql://"):
        next(databases.database("postgresql", tmp_path))
    assert next(databases.database("sqlite", tmp_path)).startswith("sqlite:///")  # SQLite needs nothing


@pytest.mark.parametrize("ci, outcome", [("true", pytest.fail.Exception), ("false", pytest.skip.Exception)])
def test_the_browser_test_without_chromium_fails_under_ci_and_skips_outside(monkeypatch, ci, outcome):
    import test_browser

    monkeypatch.setattr(test_browser, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("CI", ci)
    reason = _skip_reason()
    assert reason == ("/nonexistent/chromium is missing: run 'apt-get install -y chromium' (as root) "
                      "to enable this test")
    with pytest.raises(outcome, match="apt-get install -y chromium"):
        _require()  # what the browser test's lab fixture does first
