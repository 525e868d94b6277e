"""The one URL filter: only http, https, mailto, tel and relative URLs become an href or a src."""

from __future__ import annotations

import pytest

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
