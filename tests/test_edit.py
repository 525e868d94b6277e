"""Edit and replay: a logged request sent again with its body, query or headers changed, logged (flag
``edited``) and diffed like any replay; masked values sent as received; bad edits refused with the fix."""

from __future__ import annotations

import pytest
from helpers import define_shop

import toolkit as tk
from toolkit.errors import ReplayError
from toolkit.testing.edit import editable, replay_edited, replay_json


def test_an_edited_replay_is_logged_and_diffed_like_any_other():
    app = tk.App("shop")
    define_shop(app)

    @app.handler("/search")
    def search(request, q: str, lang: str = "en"):
        return f"{q} ({lang}) via {request.headers.get('x-channel', 'web')}"

    app.call("/orders", {"order_id": "A-1", "password": "hunter2"})
    logged = app.log.last()
    assert editable(logged) == {"query": {}, "headers": {}, "body": {"order_id": "A-1", "password": "***"}}
    result = replay_edited(app, logged, body={"order_id": "B-2", "password": "***"})
    assert result.new is app.log.last() and result.new.source == "replay" and result.new.flags == ["edited"]
    assert result.new.body == {"order_id": "B-2", "password": "***"} and result.new.status == 200  # hunter2 sent
    assert str(result.diff) == ("session.data.id: 'A-1' -> 'B-2'\n"
                                "messages[0].textMessages[0].text: 'Order A-1 is shipped.' -> 'Order B-2 is shipped.'")
    wrong = replay_edited(app, logged, body={"order_id": "A-1", "password": "guess"})
    assert wrong.new.status == 500 and wrong.diff.parts[0] == "status"
    app.handle(tk.Incoming("GET", "/search", query={"q": "tea"}, headers={"X-Channel": "web", "Host": "x"}))
    searched = app.log.last()
    assert editable(searched)["headers"] == {"X-Channel": "web"}  # transport headers left out
    edited = replay_json(app, searched, '{"query": {"q": "tea", "lang": "nl"}, "headers": {"X-Channel": "whatsapp"}}')
    assert edited.new.query == {"q": "tea", "lang": "nl"} and edited.new.headers == {"X-Channel": "whatsapp"}
    assert edited.diff.changes[0].new == "tea (nl) via whatsapp"
    assert replay_json(app, searched, '{"body": "raw text"}').new.body == "raw text"  # the query is kept
    assert app.log.last().query == {"q": "tea"}


@pytest.mark.parametrize("text, says", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object, got list"),
    ('{"method": "DELETE"}', "'method': only query, headers and body can change"),
    ('{"query": {"n": 3}}', "query must be an object of text values"),
    ('{"headers": ["X-A"]}', "headers must be an object of text values"),
])
def test_a_bad_edit_is_refused_with_the_fix_and_nothing_breaks(app, text, says):
    app.call("/greet", {"name": "Ada"})
    logged = app.log.last()
    with pytest.raises(ReplayError) as caught:
        replay_json(app, logged, text)
    assert says in str(caught.value) and "Fix:" in str(caught.value)
    assert len(app.log) == 1 and len(app.log.to_frame()) == 1  # nothing was sent; the log exports
    assert app.call("/greet", {"name": "Bo"})["messages"][0] == tk.text("Hello Bo!")


def test_a_refused_request_replayed_with_corrected_credentials_passes_and_is_no_retry():
    app = tk.App("shop", auth_bearer="right-token")
    define_shop(app)
    app.handle(tk.Incoming("POST", "/orders", headers={"Authorization": "Bearer wrong"}, raw=b'{"order_id": "A-1"}'))
    refused = app.log.last()
    assert refused.status == 401 and editable(refused)["headers"] == {"Authorization": "***"}
    still = replay_json(app, refused, '{"headers": {"Authorization": "***"}}')  # masked: still refused
    assert still.new.status == 401 and "status" not in still.diff.parts
    fixed = replay_edited(app, refused, headers={"Authorization": "Bearer right-token"})
    assert fixed.new.status == 200 and fixed.diff.changes[0].path == "status"
    assert fixed.new.flags == ["edited"] and fixed.new.headers == {"Authorization": "***"}  # logged masked
