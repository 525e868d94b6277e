"""The parity report's comparison, turn by turn (the end-to-end case is in test_live.py)."""

from __future__ import annotations

import re

import pytest

import toolkit as tk
from toolkit.chatlayer.parity import bubbles, compare_turn, masker


def bot(message, block=None):
    return {"sender": "bot", "source": "flow", "block": block, "message": message}


def test_a_buttons_message_compares_like_its_text_lines_then_its_choices():
    two = bubbles([bot(tk.buttons(["Hi!", "Pick"], tk.postback("A", "a")))])
    one = bubbles([bot(tk.text("Hi!")), bot(tk.buttons("Pick", tk.postback("A", "zz-opaque")))])
    assert [b[0] for b in two] == [b[0] for b in one]  # payloads are not compared


def test_each_kind_of_difference_is_marked_once():
    left = ([bot(tk.text("Hello"), "b1"), bot(tk.text("Same"), "b2"), bot(tk.media("https://x.test/a.png"))],
            [{"path": "/orders", "status": 200, "ms": 3}])
    right = ([bot(tk.text("Hello"), "b9"), bot(tk.text("Same")), bot(tk.media("https://x.test/b.png")),
              bot(tk.text("More"))], [{"path": "/orders", "status": 500, "ms": 4}])
    turn = compare_turn(3, "say 'hi'", left, right)
    kinds = [ln.difference.kind for ln in turn.lines if ln.difference]
    assert kinds == ["block", "media", "extra", "calls"]  # "Same": one side shows no block, so no mark
    calls = turn.lines[-1].difference
    assert calls.emulated == "called /orders → 200" and calls.live == "called /orders → 500"


def test_a_report_without_differences_is_true_and_its_reprs_are_deterministic():
    report = tk.chatlayer.parity.ParityReport("flow 'a'", "live bot 'b'")
    report.turns.append(compare_turn(1, "(opening)", ([bot(tk.text("Hi"))], []), ([bot(tk.text("Hi"))], [])))
    assert report and report.check() is report
    assert str(report).splitlines()[0] == "Parity of flow 'a' and live bot 'b': no difference in 1 turns."
    assert "bot: Hi" in report._repr_html_()


def test_ignore_masks_both_sides_with_regexes_or_callables_and_refuses_a_bad_pattern():
    mask = masker([r"A-\d{4}", lambda text: text.replace("10:42", "hh:mm")])
    assert mask("Order A-1042 at 10:42") == "Order ‹masked› at hh:mm"
    assert masker(re.compile("x"))("xyx") == "‹masked›y‹masked›" and masker(())("same") == "same"
    entry = {"sender": "bot", "block": None, "message": tk.text("Order A-1042")}
    other = {"sender": "bot", "block": None, "message": tk.text("Order A-7777")}
    assert compare_turn(1, "hi", ([entry], []), ([other], [])).lines[0].difference is not None
    same = compare_turn(1, "hi", ([entry], []), ([other], []), mask=masker(r"A-\d+"))
    assert same.lines[0].difference is None and same.lines[0].emulated == "bot: Order ‹masked›"
    with pytest.raises(ValueError, match="regex strings or callables"):
        masker([3])


def test_a_button_whose_url_alone_differs_is_marked():
    def turn(url: str) -> tuple[list, list]:
        return ([bot(tk.buttons("Track it", tk.url_button("Open", url))),
                 bot(tk.carousel(tk.card("Parcel", buttons=tk.url_button("Open", url))))], [])

    same = compare_turn(1, "track", turn("https://x.test/a"), turn("https://x.test/a"))
    assert [ln.difference for ln in same.lines] == [None, None]
    moved = compare_turn(1, "track", turn("https://x.test/a"), turn("https://x.test/b"))
    assert [ln.difference.kind for ln in moved.lines] == ["button", "card"]  # the titles read the same
