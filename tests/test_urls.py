"""The one URL filter: only http, https, mailto, tel and relative URLs become an href or a src; a reply
whose buttons, cards and media point at javascript: shows them as text in every view."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

import toolkit as tk
from toolkit.chatlayer.parity import ParityReport, compare_turn
from toolkit.html.urls import safe_url, scheme_of


@pytest.mark.parametrize("url", [
    "https://e/a.png", "http://e/x?a=1&b=2", "HTTPS://E/A", "mailto:me@example.com", "tel:+3212345678",
    "/relative/path", "image.png", "../up.png", "?q=1", "#top", "//cdn.test/x.js", "{order.img}",
    "/a:b", "a/b:c", "  https://e/padded  ",
])
def test_allowed_urls_pass_unchanged(url):
    assert safe_url(url) == url


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", " JaVaScRiPt:alert(1)", "\x00javascript:alert(1)", "\x01\x1fjavascript:x",
    "java\tscript:alert(1)", "java\nscript:alert(1)", "java\rscript:alert(1)", "JAVASCRIPT:alert(1)",
    "data:text/html;base64,PHNjcmlwdD4=", "data:image/svg+xml,<svg onload=alert(1)>", "vbscript:msgbox(1)",
    "file:///etc/passwd", "ftp://e/x", "blob:https://e/x", "about:blank", "chrome://settings",
    "javascript&colon;alert(1):x",
])
def test_other_schemes_are_refused(url):
    assert safe_url(url) == ""


def test_scheme_is_read_as_a_browser_reads_it():
    assert scheme_of(" \tJaVa\nScRiPt:alert(1)") == "javascript"
    assert scheme_of("/a:b") is None and scheme_of("x?y:z") is None and scheme_of("x#y:z") is None
    assert scheme_of("tel:+32") == "tel"


def test_nothing_and_non_strings():
    assert safe_url(None) == "" and safe_url(42) == "42"


# --- a reply whose links and images run script: no view makes them a link or an image -----------------

EVIL = "javascript:alert(1)"
SNEAKY = " JaVaScRiPt:alert(2)"


class _Links(HTMLParser):
    """Every href and src in a piece of HTML, as the browser reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value or "" for name, value in attrs if name in ("href", "src")]


def links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.urls


def assert_no_script_links(html: str) -> None:
    found = links(html)
    assert not [u for u in found if not safe_url(u)], found
    assert "javascript" not in " ".join(found).lower()
    assert "alert(1)" in html  # shown, as text


def evil_reply() -> tk.Reply:
    return tk.Reply(messages=[
        tk.buttons("Pick", tk.url_button("Site", EVIL), tk.url_button("Also", SNEAKY)),
        tk.carousel(tk.card("Card", "sub", image_url=EVIL, buttons=[tk.url_button("Go", EVIL)]),
                    tk.card("Fine", "ok", image_url="https://img.test/ok.png")),
        tk.list_message([tk.card("Row", image_url=SNEAKY)], button=tk.url_button("All", EVIL)),
        tk.media(EVIL), tk.media(SNEAKY, "video"), tk.media("data:text/html,<script>x</script>", "audio"),
        tk.media("vbscript:msgbox(1)", "attachment"),
    ])


@pytest.fixture
def evil_app() -> tk.App:
    app = tk.App("evil")
    app.add_handler("/evil", evil_reply)
    return app


@pytest.fixture
def evil_conversation(evil_app) -> tk.Conversation:
    flow = tk.Flow("evil")
    flow.api("welcome", tk.ApiStep("POST", "/evil"))
    return tk.Conversation(flow, backend=evil_app)


def test_the_log_view_rows_and_detail_pane_make_no_script_link(evil_app):
    evil_app.call("/evil")
    view = tk.LogView(evil_app)
    try:
        view.select(evil_app.log.last())
        assert_no_script_links(view.detail.value)
        assert links(view.detail.value).count("https://img.test/ok.png") == 1  # a safe image still shows
        assert not links(view.table_html.value)
    finally:
        view.close()


def test_the_transcript_makes_no_script_link(evil_conversation):
    evil_conversation.say("hi")
    assert_no_script_links(evil_conversation._repr_html_())
    assert "https://img.test/ok.png" in links(evil_conversation._repr_html_())


def test_the_chat_view_makes_no_script_link(evil_conversation):
    view = tk.ChatView(evil_conversation)
    try:
        evil_conversation.say("hi")
        assert_no_script_links(view._bubbles.value)
    finally:
        view.close()


def test_the_parity_report_makes_no_script_link():
    entries = [{"sender": "bot", "source": "flow", "block": "b", "message": m} for m in evil_reply().messages]
    report = ParityReport("flow 'a'", "live bot 'b'")
    report.turns.append(compare_turn(1, "(opening)", (entries, []), (entries[:2], [])))
    html = report._repr_html_()
    assert_no_script_links(html)
    assert not links(html)
