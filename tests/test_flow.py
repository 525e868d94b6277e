"""Flows: blocks in Python and from YAML / JSON files, go-to conditions, intents, input validation,
and errors that name the block and the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import toolkit as tk
from toolkit.emulator import Condition, InputBlock, MessageBlock
from toolkit.emulator.rules import check_input
from toolkit.errors import FlowError

ROOT = Path(__file__).resolve().parents[1]

FLOW_YAML = """
name: shop
start: welcome
fallback: not_understood
intents:
  track: {keywords: [order, track], patterns: ['\\bA-\\d{4}\\b'], go: ask_order}
blocks:
  welcome:
    id: 11111111-aaaa
    messages:
      - "Hi {internal.user.firstName}!"
      - quick_replies:
          text: What can I do?
          replies:
            - {title: Track, go: ask_order, params: {intent.name: track}}
            - {title: Where, location: true, go: welcome}
      - buttons: {text: Or, buttons: [{title: Site, url: "https://example.com"}, {title: Call, phone: "+32 2"}]}
      - carousel: [{title: Bike A, subtitle: 499 EUR, image: "https://example.com/a.jpg", buttons: [{title: Choose, go: route}]}]
      - image: https://example.com/x.png
      - {type: text, config: {textMessages: [{text: raw}]}}
  ask_order: {input: order.id, prompt: "Which order?", validate: text, next: lookup}
  lookup:
    api: {method: GET, url: /orders, query: [[id, variable, order.id], [ok, dialogstate, route]], auth: {bearer: t}}
    on_error: not_understood
  route:
    goto: [{if: order.status == shipped, go: welcome}, ["order.total > 10", ask_order]]
    default: not_understood
  count: {set: {visits: "{visits|increment}"}, next: welcome}
  not_understood: ["Sorry?"]
"""


def test_a_flow_in_python():
    flow = tk.Flow("shop")
    flow.message("welcome", "Hi!", tk.quick_replies("Pick", tk.postback("Track", "ask")), id="b-1")
    flow.input("ask", "Which order?", "order.id", next="done")
    flow.message("done", "Thanks {order.id}.")
    flow.intent("track", keywords=["order"], go="ask")
    assert flow.start == "welcome" and flow.check() is flow
    assert flow.resolve("welcome") == "b-1" and flow.resolve("b-1") == "b-1" and flow.resolve("ask") == "ask"
    assert repr(flow) == "<Flow 'shop': 3 blocks, 1 intent, start 'welcome'>"
    assert repr(flow.block("ask")) == "InputBlock('ask')"
    flow.message("welcome", "Hello again!")  # a re-run cell replaces the block
    assert len(flow.blocks) == 3 and flow.block("welcome").messages == [tk.text("Hello again!")]


def test_unknown_blocks_are_named_with_a_suggestion():
    flow = tk.Flow("shop")
    flow.message("welcome", tk.buttons("Go", tk.postback("Track", "ask_ordr")), next="nowhere")
    flow.input("ask_order", "Which?", "order.id")
    with pytest.raises(FlowError) as caught:
        flow.check()
    assert "'welcome' leads to unknown block 'ask_ordr'" in caught.value.message
    assert "'welcome' leads to unknown block 'nowhere'" in caught.value.message
    with pytest.raises(FlowError, match="no block 'ask_ordr'. Did you mean 'ask_order'"):
        flow.block("ask_ordr")


def test_bad_blocks_fail_when_defined():
    flow = tk.Flow()
    with pytest.raises(FlowError, match="unknown validation 'mail'. Did you mean 'email'"):
        flow.input("x", "?", "a", validate="mail")
    with pytest.raises(FlowError, match="message 1: unknown message type"):
        flow.message("x", {"type": "gif", "config": {}})
    with pytest.raises(FlowError, match="needs an ApiStep"):
        flow.api("x", "POST /x")
    with pytest.raises(FlowError, match="no keywords and no patterns"):
        flow.intent("x", go="y")
    with pytest.raises(FlowError, match="not a valid regex"):
        flow.intent("x", patterns=["(oops"], go="y")


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_load_a_flow_file(tmp_path, suffix):
    import yaml

    spec = yaml.safe_load(FLOW_YAML)
    path = tmp_path / f"shop{suffix}"
    path.write_text(FLOW_YAML if suffix == ".yaml" else json.dumps(spec))
    flow = tk.Flow.load(path)
    assert (flow.name, flow.start, flow.fallback) == ("shop", "welcome", "not_understood")
    welcome = flow.block("welcome")
    assert isinstance(welcome, MessageBlock) and welcome.id == "11111111-aaaa"
    kinds = [m["type"] for m in welcome.messages]
    assert kinds == ["text", "quickReplies", "buttons", "carousel", "media", "text"]
    replies = welcome.messages[1]["config"]["quickReplies"]
    assert replies[0] == tk.postback("Track", "ask_order", {"intent.name": "track"})
    assert replies[1] == tk.location("Where", "welcome")
    assert welcome.messages[2]["config"]["buttons"] == [tk.url_button("Site", "https://example.com"),
                                                        tk.phone_button("Call", "+32 2")]
    card = welcome.messages[3]["config"]["elements"][0]
    assert card["imageUrl"] == "https://example.com/a.jpg" and card["subTitle"] == "499 EUR"
    ask = flow.block("ask_order")
    assert isinstance(ask, InputBlock) and ask.variable == "order.id" and ask.prompt == [tk.text("Which order?")]
    step = flow.block("lookup").step
    assert (step.method, step.url, step.auth) == ("GET", "/orders", ("bearer", "t"))
    assert flow.block("route").default == "not_understood"
    assert flow.match("where is A-1042 please").go == "ask_order"


@pytest.mark.parametrize(("text", "problem"), [
    ("blocks: {}", "needs 'blocks'"),
    ("blocks: {a: {messages: [hi], input: x}}", "exactly one of"),
    ("blocks: {a: {mesages: [hi]}}", "Unknown keys: mesages"),
    ("blocks: {a: {messages: [{gif: x}]}}", "unknown message kind 'gif'"),
    ("blocks: {a: {messages: [{buttons: {text: t, buttons: [{title: T}]}}]}}", "button 'T' does nothing"),
    ("blocks: {a: {api: {method: POST}}}", "api needs at least a url"),
    ("blocks: {a: {messages: [hi], next: b}}", "leads to unknown block 'b'"),
    ("blocks: {a: [hi]}\nintents: {x: {keywords: [y]}}", "needs 'go'"),
    ("blocks: {a: [hi]\n  b: [", "not valid YAML"),
])
def test_flow_file_errors_name_the_problem(tmp_path, text, problem):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(FlowError, match=problem):
        tk.Flow.load(path)


def test_a_missing_flow_file_names_its_path(tmp_path):
    with pytest.raises(FlowError, match="No flow file at .*nope.yaml"):
        tk.Flow.load(tmp_path / "nope.yaml")


def test_the_demo_flow_file_loads():
    flow = tk.Flow.load(ROOT / "data" / "demo_flow.yaml")
    assert flow.name == "beanbox" and not flow.problems()


@pytest.mark.parametrize(("spec", "values", "expected"), [
    ("order.status == shipped", {"order": {"status": "shipped"}}, True),
    ("order.status == Shipped", {"order": {"status": "shipped"}}, False),  # case-sensitive, like Chatlayer
    ("order.status != shipped", {}, True),
    ("count > 3", {"count": 10}, True),
    ("count >= 10", {"count": "10"}, True),  # numbers compare as numbers
    ("count < 9", {"count": 10}, False),
    ("count <= 2.5", {"count": 2.5}, True),
    ("tags contains vip", {"tags": ["vip", "x"]}, True),
    ("name contains ada", {"name": "Ada"}, False),
    ("code matches ^A-\\d+$", {"code": "A-1042"}, True),
    ("lead.email exists", {"lead": {"email": "a@b.c"}}, True),
    ("lead.email exists", {"lead": {"email": ""}}, False),
    ("lead.email missing", {}, True),
    ("order.status == '{wanted}'", {"order": {"status": "late"}, "wanted": "late"}, True),
    (("count", ">", 1), {"count": 2}, True),
])
def test_conditions(spec, values, expected):
    session = tk.Session(values)
    assert Condition.parse(spec).holds(session.find, session.render) is expected


def test_bad_conditions_say_how_to_write_one():
    with pytest.raises(FlowError, match="operators: =="):
        Condition.parse("order.status is shipped")
    with pytest.raises(FlowError, match="needs a value"):
        Condition.parse(("count", ">"))


def test_intents_first_match_wins_and_keywords_are_whole_words():
    flow = tk.Flow()
    flow.message("a", "A")
    flow.intent("orders", keywords=["order"], go="a")
    flow.intent("greeting", keywords=["hi", "good morning"], patterns=[r"^hey\b"], go="a")
    assert flow.match("Where is my ORDER?").name == "orders"
    assert flow.match("hi, where is my order").name == "orders"  # first intent that matches
    assert flow.match("Good morning!").name == "greeting" and flow.match("hey you").name == "greeting"
    assert flow.match("this is orderly") is None and flow.match("They") is None


@pytest.mark.parametrize(("kind", "text", "ok", "value"), [
    ("text", "  Ada ", True, "Ada"),
    ("text", "   ", False, None),
    ("number", "42", True, 42),
    ("number", "2,5", True, 2.5),
    ("number", "many", False, None),
    ("email", "ada@example.com", True, "ada@example.com"),
    ("email", "ada@example", False, None),
    ("date", "2025-03-14", True, "2025-03-14"),
    ("date", "14/03/2025", True, "2025-03-14"),
    ("date", "14.03.2025", True, "2025-03-14"),
    ("date", "tomorrow", False, None),
])
def test_input_validation(kind, text, ok, value):
    assert check_input(text, kind) == (ok, value)
