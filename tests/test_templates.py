"""HTML comes from the templates in toolkit/html/templates/, through one Jinja2 environment: values are
escaped, a name the template lacks is an error, no Python module builds HTML in a string, and every icon
carries a text label and draws without an emoji font."""

from __future__ import annotations

import ast
import re
import tomllib
import unicodedata
from pathlib import Path

import jinja2
import pytest
from helpers import ICON

import toolkit as tk
from toolkit.html.icons import BUTTON_ICONS, ICONS
from toolkit.html.render import messages_html
from toolkit.html.templates import environment, macro, render
from toolkit.widgets.logtable import ROW_PX, header_html, row_html

PACKAGE = Path(tk.__file__).parent
TEMPLATES = PACKAGE / "html" / "templates"
# Element names toolkit's HTML could use; `<body>`, `<head>` and `<html>` are left out: messages and
# docs write "<timestamp>.<body>" for what is signed.
TAG = re.compile(r"<\s*/?\s*(a|abbr|audio|b|br|button|code|del|details|div|em|form|h[1-6]|hr|i|iframe|img|"
                 r"input|ins|label|li|mark|ol|p|pre|script|section|small|source|span|strong|style|sub|"
                 r"summary|sup|svg|table|tbody|td|th|thead|tr|u|ul|video)(\s|/|>)")
# Short and justified: Mermaid's line break inside a node label (the diagram is Markdown for Mermaid,
# which escapes what it draws; emulator/diagram.py quotes every label with _text()).
ALLOWED = {("emulator/diagram.py", "<br/>")}


def _literals(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string literal in the module (f-string parts included), docstrings and bare strings aside."""
    bare = {id(node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in bare]


def test_no_python_module_writes_html_in_a_string():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = str(path.relative_to(PACKAGE))
        for line, text in _literals(ast.parse(path.read_text(encoding="utf-8"))):
            for m in TAG.finditer(text):
                tag = text[m.start():text.index(">", m.start()) + 1] if ">" in text[m.start():] else m.group(0)
                if (where, tag) not in ALLOWED:
                    found.append(f"{where}:{line}: {tag}")
    assert not found, "HTML belongs in toolkit/html/templates/:\n" + "\n".join(found)


def test_the_scan_finds_html_in_strings_and_f_strings():
    src = 'x = f"<div>{a}</div>"\ny = "<td style=1>"\n"""A docstring may say <pre>."""\nz = "<Exchange GET>"\n'
    flagged = {t for _line, t in _literals(ast.parse(src)) if TAG.search(t)}
    assert flagged == {"<div>", "</div>", "<td style=1>"}


def test_one_environment_autoescapes_like_html_escape_and_refuses_unknown_names():
    env = environment()
    assert env is environment() and env.autoescape is True and env.undefined is jinja2.StrictUndefined
    assert env.trim_blocks and env.lstrip_blocks and "safe_url" in env.filters
    assert render("tunnel.html") == ""  # only macros at the top
    out = str(macro("widgets.html", "chat_error")("<script>alert('x') & \"y\"</script>"))
    assert out.endswith(">&lt;script&gt;alert(&#x27;x&#x27;) &amp; &quot;y&quot;&lt;/script&gt;</div>")
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ nothing }}").render()


def test_compiled_templates_are_cached():
    assert macro("messages.html", "chips") is macro("messages.html", "chips")
    assert environment().get_template("messages.html") is environment().get_template("messages.html")


def test_rows_and_header_are_as_tall_as_the_pick_buttons_beside_them():
    app = tk.App("rows")
    app.add_handler("/r", lambda: {"x": 1})
    app.call("/r")
    assert f"height:{ROW_PX}px;" in row_html(app.log.last()) and f"height:{ROW_PX}px;" in header_html()


def test_every_template_compiles_and_has_no_whitespace_between_tags():
    names = sorted(p.name for p in TEMPLATES.glob("*.html"))
    assert "messages.html" in names and len(names) >= 10
    for name in names:
        module = environment().get_template(name).module
        assert "\n" not in str(module), name  # top-level output: none
    html = messages_html([tk.quick_replies("Q", tk.postback("A", "a"), tk.postback("B", "b"))])
    assert "> <" not in html and "\n" not in html  # inline-block chips get no gap between them


@pytest.mark.parametrize("name", sorted(ICONS))
def test_each_icon_carries_a_text_label_and_a_glyph_plain_fonts_have(name):
    html = str(macro("icons.html", "icon")(name))
    glyph, label = ICONS[name]
    found = ICON.fullmatch(html)
    assert found and found.groups() == (label, glyph) and label.isascii() and label.strip()
    # No emoji: every glyph is in the BMP's symbol blocks DejaVu Sans covers, none has emoji presentation.
    assert all(ord(c) < 0x2c00 and unicodedata.category(c).startswith("S") for c in glyph), glyph
    assert not set(glyph) & set("⌚⌛⏩⏪⏫⏬⏰⏳⏸⏹⏺☔☕♈♿⚓⚡⚪⚫⚽⚾⛄⛅⛎⛔⛪⛲⛳⛵⛺⛽✅✊✋✨❌❎❓❔❕❗➕➖➗➰➿")


def test_button_kinds_map_to_icons():
    assert set(BUTTON_ICONS.values()) <= set(ICONS)


EMOJI = re.compile("[\U0001f000-\U0001faff\u2705\u274c\u23f8]")


def test_rendered_views_draw_no_emoji_and_label_every_icon():
    reply = tk.Reply(messages=[
        tk.buttons("B", tk.url_button("Site", "https://e"), tk.phone_button("Call", "+32")),
        tk.quick_replies("Q", tk.location("Here", "l")), tk.media("https://e/f.pdf", "attachment")])
    app = tk.App("icons")
    app.add_handler("/r", lambda: reply)
    app.call("/r")
    from toolkit.widgets.logtable import counts_html, detail_html
    html = detail_html(app.log.last()) + counts_html(1, 1, 1, paused=True, waiting=2)
    assert not EMOJI.search(html)
    icons = re.findall(r'<span class="tk-icon"[^>]*>[^<]*</span>', html)
    assert len(icons) >= 5 and all(ICON.fullmatch(i) for i in icons)


def test_the_wheel_ships_every_template():
    project = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())
    globs = project["tool"]["setuptools"]["package-data"]["toolkit"]
    for template in TEMPLATES.glob("*.html"):
        assert any(template.relative_to(PACKAGE).match(g) for g in globs), template.name
