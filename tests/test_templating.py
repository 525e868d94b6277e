"""Templates: {var}, {a.b}, {users[0].name}, every modifier, and missing variables per setting."""

from __future__ import annotations

import pytest

import toolkit as tk
from toolkit.emulator.templating import MODIFIERS, to_text
from toolkit.errors import TemplateError


@pytest.fixture
def session() -> tk.Session:
    return tk.Session({"name": "ada lovelace", "order": {"id": "A-1042", "total": 12.0, "paid": True},
                       "users": [{"name": "Bob"}], "count": 4, "price": "2.5", "tags": ["a", "b"]})


def test_plain_dotted_and_indexed_variables(session):
    assert session.render("Hi {name}, order {order.id} for {users[0].name}.") == \
        "Hi ada lovelace, order A-1042 for Bob."
    assert session.render("{ order.id }") == "A-1042"  # spaces inside the braces are fine


@pytest.mark.parametrize(("template", "expected"), [
    ("{name|toUpperCase}", "ADA LOVELACE"),
    ("{order.id|toLowerCase}", "a-1042"),
    ("{name|capitalize}", "Ada lovelace"),
    ("{count|increment}", "5"),
    ("{price|increment}", "3.5"),
    ("{unset_counter|increment}", "1"),
    ("{name|capitalize|toUpperCase}", "ADA LOVELACE"),
    ("{ name | toUpperCase }", "ADA LOVELACE"),
])
def test_every_modifier(session, template, expected):
    assert session.render(template) == expected
    assert not session.missing


def test_the_modifier_table_is_the_documented_one():
    assert set(MODIFIERS) == {"toUpperCase", "toLowerCase", "capitalize", "increment"}


def test_values_print_the_way_chatlayer_prints_them(session):
    assert session.render("{order.total} {order.paid} {tags} {order}") == \
        '12 true ["a","b"] {"id":"A-1042","total":12.0,"paid":true}'
    assert to_text(None) == "" and to_text(0.5) == "0.5"


def test_unknown_modifier_and_bad_increment_fail_with_the_fix(session):
    with pytest.raises(TemplateError, match=r"Unknown template modifier \|toUppercase. Did you mean toUpperCase"):
        session.render("{name|toUppercase}")
    with pytest.raises(TemplateError, match="not a number") as caught:
        session.render("{name|increment}")
    assert "Store a number" in caught.value.hint


def test_missing_variables_render_empty_by_default_and_are_reported(session):
    assert session.render("Hello {nobody}! Your {order.nope}.") == "Hello ! Your ."
    assert session.missing == ["nobody", "order.nope"]
    assert session.render_report("{nobody} {users[3].name}").missing == ("nobody", "users[3].name")
    assert session.missing == ["nobody", "order.nope", "users[3].name"]


def test_missing_variables_keep_or_error_per_setting():
    keep = tk.Session(settings=tk.Settings(missing_variable="keep"))
    assert keep.render("Hello {nobody|toUpperCase}!") == "Hello {nobody|toUpperCase}!"
    strict = tk.Session(settings=tk.Settings(missing_variable="error"))
    with pytest.raises(TemplateError, match=r"\{nobody\} is not set") as caught:
        strict.render("Hello {nobody}!")
    assert "missing_variable" in caught.value.hint


def test_text_that_is_not_a_placeholder_is_left_alone(session):
    for text in ("{ a b }", "{}", "JSON {\"a\": 1}", "{1abc}", "no braces"):
        assert session.render(text) == text
    assert not session.missing


def test_evaluate_keeps_the_type_of_a_single_placeholder(session):
    assert session.evaluate("{count|increment}") == 5
    assert session.evaluate("{order}") == {"id": "A-1042", "total": 12.0, "paid": True}
    assert session.evaluate("n={count}") == "n=4"
    assert session.evaluate(7) == 7
    assert session.render_all({"a": ["{name|capitalize}", 3]}) == {"a": ["Ada lovelace", 3]}
