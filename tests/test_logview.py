"""The live log view, driven as objects: rows after real HTTP requests, filters, selection, the detail
pane (every message type), pause/clear, replay, fixtures, throttled redraws and a clean close."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading

import pytest
import requests
from helpers import icons_as_text, wait_until

import toolkit as tk
from toolkit.log import note_outbound
from toolkit.widgets.logtable import Filter, counts_html, header_html, milliseconds, row_html, where_options


@pytest.fixture
def view(app):
    v = tk.LogView(app)
    yield v
    v.close()


def _shop(app: tk.App) -> None:
    @app.handler("/orders")
    def orders(order_id: str):
        if order_id == "boom":
            raise KeyError(order_id)
        return tk.Reply(session={"order": {"id": order_id}}, messages=[tk.text(f"Order {order_id} shipped.")],
                        next_dialogstate="ok-block")


def test_import_toolkit_never_imports_ipywidgets():
    code = ("import sys, toolkit, toolkit.testing.replay, toolkit.testing.fixtures, toolkit.widgets.logtable; "
            "assert 'ipywidgets' not in sys.modules; toolkit.LogView; assert 'ipywidgets' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_repr_is_short_and_deterministic(app, view):
    app.call("/greet")
    assert repr(view) == "LogView(app='test')"
    assert view._repr_mimebundle_()["text/plain"] == "LogView(app='test')"
    assert repr(app.log_view()) == "LogView(app='test')"  # replaces (closes) the fixture's view


def test_rows_reflect_real_http_requests_within_a_bounded_wait(app, view):
    server = app.serve(port=0)
    try:
        with requests.Session() as http:
            for i in range(12):
                assert http.post(f"{server.url}/greet", json={"name": f"n{i}"}, timeout=5).status_code == 200
            http.get(f"{server.url}/missing", timeout=5)
    finally:
        server.stop()
    shown = wait_until(lambda: len(view.shown) == 13 and view.shown)
    assert [e.path for e in shown[:2]] == ["/missing", "/greet"]  # newest first
    assert shown[0].status == 404 and shown[1].body == {"name": "n11"}
    assert [e.id for e in shown] == sorted((e.id for e in shown), reverse=True)
    assert all(e.source == "http" for e in shown)
    assert "Showing 13 of 13 exchanges" in view.counts.value
    assert view.table_html.value.count('class="tk-row"') == 13
    assert f'data-id="{shown[0].id}"' in view.table_html.value
    assert len(view.pick_column.children) == 1 + 13  # a spacer beside the header, then one › per row


def test_last_n_rows_with_a_count_of_the_rest(app):
    view = tk.LogView(app, rows=5)
    try:
        for i in range(12):
            app.call("/greet", {"name": str(i)})
        view.refresh()
        assert [e.body["name"] for e in view.shown] == ["11", "10", "9", "8", "7"]
        assert view.table_html.value.count('class="tk-row"') == 5 and len(view.pick_column.children) == 6
        assert "Showing 5 of 12 exchanges (7 more not shown" in view.counts.value
    finally:
        view.close()


def test_status_coloured_by_class_slow_highlighted_and_flags(app):
    _shop(app)
    app.call("/greet")
    app.call("/nowhere", raise_errors=False)
    app.call("/orders", {"order_id": "boom"}, raise_errors=False)
    ok, missing, failed = app.log.entries()
    assert "#16a34a" in row_html(ok) and "#d97706" in row_html(missing) and "#dc2626" in row_html(failed)
    assert ">error<" in row_html(failed) and ">call<" in row_html(ok)
    ok.flags.append("slow")
    ok.flags.append("retry")
    html = row_html(ok, selected=True)
    assert "background:#dc2626" in html and ">slow<" in html and ">retry<" in html
    assert "background:#e0ecff" in html


def test_filters_by_path_handler_status_class_and_text(app, view):
    _shop(app)
    app.call("/greet", {"name": "Ada"})
    app.call("/orders", {"order_id": "A-1042"})
    app.call("/orders", {"order_id": "boom"}, raise_errors=False)
    app.call("/nowhere", raise_errors=False)
    view.refresh()
    values = [v for _label, v in view.where_filter.options]
    assert values == ["", "path:/greet", "path:/nowhere", "path:/orders", "handler:greet", "handler:orders"]
    view.set_filter(where="path:/orders")
    assert [e.body["order_id"] for e in view.shown] == ["boom", "A-1042"]
    assert "Showing 2 of 2 matching exchanges · 4 in the log" in view.counts.value
    view.set_filter(where="handler:greet")
    assert [e.path for e in view.shown] == ["/greet"]
    view.set_filter(where="", status="4xx")
    assert [e.status for e in view.shown] == [404]
    view.set_filter(status="errors")
    assert [e.status for e in view.shown] == [404, 500]
    view.set_filter(status="", text="a-1042")  # case-insensitive, searches bodies
    assert [e.body for e in view.shown] == [{"order_id": "A-1042"}]
    view.set_filter(text="KeyError")  # searches errors
    assert [e.status for e in view.shown] == [500]
    view.set_filter(text="")
    assert len(view.shown) == 4
    with pytest.raises(ValueError, match="No path or handler 'path:/nope'.*path:/greet"):
        view.set_filter(where="path:/nope")


def test_filter_controls_redraw_through_the_timer(app, view):
    app.call("/greet", {"name": "Ada"})
    app.call("/greet", {"name": "Bo"})
    view.text_filter.value = "bo"  # what typing in the box does
    wait_until(lambda: [e.body for e in view.shown] == [{"name": "Bo"}])


def test_pure_filter_and_options():
    entry = tk.Exchange("POST", "/a", 201, handler="h")
    assert Filter().matches(entry) and not Filter().active
    assert Filter(status="2xx").matches(entry) and not Filter(status="errors").matches(entry)
    assert where_options([entry]) == [("All paths and handlers", ""), ("path /a", "path:/a"),
                                      ("handler h()", "handler:h")]
    assert "No requests yet" in counts_html(0, 0, 0)
    assert "Paused (3 new since)" in counts_html(1, 1, 1, paused=True, waiting=3)


def test_select_shows_request_masked_headers_response_and_traceback(app, view):
    _shop(app)
    app.call("/orders", {"order_id": "boom", "password": "hunter2"}, query={"lang": "nl"},
             headers={"Authorization": "Bearer abcdefghijkl"}, raise_errors=False)
    entry = view.select(app.log.last().id)
    html = view.detail.value
    assert entry is app.log.last() and view.selected is entry
    assert "POST /orders" in html and "orders()" in html and "500" in html
    assert "&quot;lang&quot;: &quot;nl&quot;" in html  # query
    assert "&quot;Authorization&quot;: &quot;***&quot;" in html and "abcdefghijkl" not in html
    assert "&quot;password&quot;: &quot;***&quot;" in html and "hunter2" not in html
    assert "Traceback (most recent call last)" in html and "KeyError: &#x27;boom&#x27;" in html
    assert "Response JSON" in html and "handler_error" in html
    view.refresh()
    assert view.table_html.value.count("background:#e0ecff") == 1
    view.select(None)
    assert "Click the › beside a row" in view.detail.value


def test_clicking_a_row_button_selects_it(app, view):
    app.call("/greet", {"name": "Ada"})
    app.call("/greet", {"name": "Bo"})
    view.refresh()
    view.pick_column.children[2].click()  # the second row's ›
    assert view.selected is not None and view.selected.body == {"name": "Ada"}


def test_detail_renders_every_message_type_as_a_user_sees_it(app, view):
    @app.handler("/all")
    def everything():
        return tk.Reply(messages=[
            tk.text("Plain text bubble"),
            tk.buttons("Pick one", tk.postback("Track order", "b-track"), tk.url_button("Website", "https://shop.test"),
                       tk.phone_button("Call us", "+3212345678")),
            tk.quick_replies("Quick?", tk.postback("Yes", "b-yes"), tk.location("Share location", "b-loc")),
            tk.carousel(tk.card("Red shoe", "€ 49", image_url="https://img.test/red.png",
                                buttons=[tk.postback("Buy", "b-buy")])),
            tk.media("https://img.test/photo.jpg"),
            tk.media("https://cdn.test/clip.mp4", "video"),
            tk.media("https://cdn.test/sound.mp3", "audio"),
            tk.media("https://cdn.test/invoice.pdf", "attachment"),
        ], next_dialogstate="b-next", session={"cart": {"items": 2}})

    app.call("/all")
    view.select(app.log.last())
    html = icons_as_text(view.detail.value)
    assert "What the user sees" in html
    for visible in ("Plain text bubble", "Pick one", "Track order", "Website", "☎ Call us", "Quick?", "Yes",
                    "⚑ Share location", "Red shoe", "€ 49", "Buy", "next block <code>b-next</code>",
                    "Session write", "&quot;items&quot;: 2"):
        assert visible in html, visible
    assert '<img src="https://img.test/red.png"' in html and '<img src="https://img.test/photo.jpg"' in html
    assert '<video controls src="https://cdn.test/clip.mp4"' in html
    assert '<audio controls src="https://cdn.test/sound.mp3"' in html
    assert "⇩ https://cdn.test/invoice.pdf" in html


def test_detail_nests_outbound_calls(app, view):
    @app.handler("/stock")
    def stock():
        note_outbound({"method": "GET", "url": "https://erp.test/stock?sku=1", "status": 200, "ms": 41.5,
                       "request": None, "response": {"sku": 1, "count": 3}})
        return "3 left"

    app.call("/stock")
    view.select(app.log.last())
    html = view.detail.value
    assert "Outbound calls (1)" in html and "GET https://erp.test/stock?sku=1" in html
    assert "41.5 ms" in html and "&quot;count&quot;: 3" in html


def test_pause_freezes_rows_counts_new_ones_and_resume_shows_them(app, view):
    app.call("/greet")
    view.pause()
    assert view.paused and view.pause_button.description == "Resume"
    for _ in range(3):
        app.call("/greet")
    view.refresh()
    assert len(view.shown) == 1 and "Paused (3 new since)" in view.counts.value
    view.resume()
    assert not view.paused and len(view.shown) == 4 and "Paused" not in view.counts.value


def test_clear_hides_rows_but_the_log_keeps_them(app, view):
    app.call("/greet")
    view.select(app.log.last())
    view.clear()
    assert view.shown == [] and view.selected is None and len(app.log) == 1
    assert "Cleared 1 exchange from the view (app.log keeps it); new requests show up here." in view.counts.value
    app.call("/greet", {"name": "new"})
    wait_until(lambda: [e.body for e in view.shown] == [{"name": "new"}])
    wait_until(lambda: "Showing 1 of 1 exchanges · 1 cleared" in view.counts.value)


def test_after_clear_the_header_says_what_clear_did_not_no_requests_yet(app, view):
    assert "No requests yet" in view.counts.value
    for n in range(26):
        app.call("/greet", {"name": f"n{n}"})
    view.clear()
    assert len(app.log) == 26 and "No requests yet" not in view.counts.value
    assert "Cleared 26 exchanges from the view (app.log keeps them)" in view.counts.value
    app.log.clear()  # forgetting them: the log is empty, nothing is hidden any more
    view.refresh()
    assert "No requests yet" in view.counts.value


def test_the_table_adapts_to_its_width():
    """#, method, status and ms keep their width and flags one chip at least; time and handler give way
    first, then path (a fixed 700 px row hid status, ms and flags in a narrow view). The browser test
    checks the result at 1280 px."""
    html = header_html() + row_html(tk.Exchange("POST", "/orders", 200, handler="orders", flags=["retry"]))
    styles = dict(re.findall(r'class="tk-(\w+)" style="([^;]+;[^;]+);', html))
    assert styles == {"id": "flex:none;width:34px", "time": "flex:0 3 96px;min-width:0",
                      "method": "flex:none;width:50px", "path": "flex:2 1 160px;min-width:56px",
                      "handler": "flex:1 1 120px;min-width:0", "status": "flex:none;width:44px",
                      "ms": "flex:none;width:68px", "flags": "flex:1 0 56px;overflow:hidden"}
    assert [milliseconds(v) for v in (0.25, 99.94, 1234.5)] == ["0.2 ms", "99.9 ms", "1,234 ms"]


def test_replay_from_the_view_shows_old_and_new_side_by_side(app, view):
    app.call("/greet", {"name": "Ada"})
    view.select(app.log.last())
    result = view.replay()
    assert result is not None and not result.changed
    assert "same answer as before" in view.notice.value

    @app.handler("/greet")
    def greet(name: str = "there"):  # the analyst edits the handler and re-runs the cell
        return f"Good morning {name}!"

    result = view.replay(app.log.entries()[0])
    assert result.changed and result.diff.parts == ["messages"]
    html = view.comparison.value
    assert "Before" in html and "After" in html and "Hello Ada!" in html and "Good morning Ada!" in html
    assert "changed: messages" in view.notice.value
    view.refresh()
    first_row = view.table_html.value.split('class="tk-row"')[1]
    assert ">replay<" in first_row  # the replay is logged too, flagged as such


def test_replay_all_lists_the_changed_exchanges(app, view):
    _shop(app)
    app.call("/greet", {"name": "Ada"})
    app.call("/orders", {"order_id": "A-1"})
    app.call("/orders", {"order_id": "A-2"})
    assert view.replay_all() == []
    assert "Replayed 3 request(s): 0 answer(s) changed." in view.comparison.value

    @app.handler("/orders")
    def orders(order_id: str):
        return tk.text(f"Order {order_id} is late.")

    changed = view.replay_all()
    assert sorted(r.old.body["order_id"] for r in changed) == ["A-1", "A-2"]
    assert "2 answer(s) changed" in view.comparison.value and "#2</b> POST /orders" in view.comparison.value


def test_save_fixtures_from_the_view(app, view, tmp_path):
    app.call("/greet", {"name": "Ada"}, headers={"Authorization": "Bearer abcdefghijkl"})
    app.call("/greet", {"name": "Bo"})
    assert view.save_fixtures(str(tmp_path)) == []
    assert "Select a row first" in view.notice.value
    view.select(1)
    (path,) = view.save_fixtures(str(tmp_path))
    assert path.name == "greet-1.json" and "abcdefghijkl" not in path.read_text()
    assert "Saved 1 fixture(s)" in view.notice.value
    view.folder.value = str(tmp_path / "all")
    view.replay(2)
    paths = view.save_fixtures(which="shown")
    assert sorted(p.name for p in paths) == ["greet-1.json", "greet-2.json"]  # the replay is left out
    assert tk.testing.check_folder(app, tmp_path / "all")


def test_action_errors_show_in_the_notice_line(app, view, tmp_path):
    app.configure(log_body_bytes=32)
    app.call("/greet", {"name": "x" * 100})
    view.select(app.log.last())
    assert view.save_fixtures(str(tmp_path)) is None
    assert "FixtureError" in view.notice.value and "log_body_bytes" in view.notice.value
    assert view.select(999) is None and "no longer in the log" in view.notice.value


@pytest.mark.parametrize("fps, given", [(4.0, "setting"), (25.0, "keyword")])
def test_redraws_are_throttled_whatever_the_load(app, fps, given):
    """At two rates, one from the view_max_fps setting and one passed to the view: under a steady
    load the redraws are never closer than 1/fps apart (monotonic times taken by the timer thread)."""
    if given == "setting":
        app.configure(view_max_fps=fps)
        view = tk.LogView(app)
    else:
        view = tk.LogView(app, max_fps=fps)
    assert view.max_fps == fps
    try:
        stop = threading.Event()

        def load() -> None:  # until the timer has redrawn often enough to measure its gaps
            while not stop.is_set():
                app.call("/greet")

        threads = [threading.Thread(target=load) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            wait_until(lambda: len(view.redraw_times) >= 6, 120, "six redraws under load")
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        wait_until(lambda: view.shown and view.shown[0].id == app.log.last().id)
        times = list(view.redraw_times)
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert len(gaps) >= 5 and min(gaps) >= 1 / fps - 0.005, (fps, gaps)
    finally:
        view.close()


def test_many_requests_during_one_redraw_are_drawn_by_one_more_redraw(app):
    """Coalescing shown by order, not by counting under load: while a redraw is held, 200 requests
    arrive; once it is let go, at most one more redraw shows them all."""
    view = tk.LogView(app, max_fps=1000)
    try:
        app.call("/greet")
        wait_until(lambda: view.shown and view.shown[0].id == app.log.last().id)
        with view._draw_lock:  # the timer's next redraw waits here
            before = view.redraws
            for _ in range(200):
                app.call("/greet")
        wait_until(lambda: view.shown and view.shown[0].id == app.log.last().id)
        assert view.redraws - before <= 2  # the held redraw, and at most one for all that came meanwhile
    finally:
        view.close()


def test_close_unsubscribes_and_stops_the_timer_thread(app):
    before = set(threading.enumerate())
    view = app.log_view()
    thread = view._thread
    assert thread.is_alive() and thread.name == "toolkit-logview-test"
    view.close()
    assert not thread.is_alive() and set(threading.enumerate()) <= before
    redraws = view.redraws
    app.call("/greet")
    assert app.log._subscribers == [] and view.redraws == redraws
    view.close()  # twice is fine


def test_a_new_view_of_the_same_app_replaces_the_old_one(app):
    first = app.log_view()
    second = tk.App("test").log_view()  # a re-run notebook: new App, same name
    try:
        assert first._closed and not first._thread.is_alive() and not second._closed
    finally:
        second.close()


def test_replays_and_fixture_checks_have_their_own_filter_off_by_default(app, view, tmp_path):
    """Re-checking fixtures must not push the real requests out of view."""
    from toolkit import testing
    from toolkit.testing.replay import replay

    app.call("/greet", {"name": "Ada"})
    testing.save_fixtures(app.log.last(), tmp_path, app=app)
    assert testing.check_folder(app, tmp_path)
    replay(app, app.log.entries()[0])
    view.refresh()
    assert [e.source for e in app.log] == ["call", "fixture", "replay"]
    assert [e.source for e in view.shown] == ["call"]
    assert "2 replays and fixture checks hidden (tick Replays &amp; checks)" in view.counts.value
    view.set_filter(checks=True)
    assert [e.source for e in view.shown] == ["replay", "fixture", "call"]
    assert "hidden" not in view.counts.value


def test_a_closed_view_keeps_its_last_rows_on_the_page_with_a_stopped_note(app):
    """Run All of a notebook that closes its views at the end must not leave them blank."""
    view = app.log_view()
    app.call("/greet", {"name": "Ada"})
    view.close()
    (frozen,) = view.children
    assert view.comm is not None  # still on the page
    assert "/greet" in frozen.value and "Stopped" in frozen.value and "Showing 1 of 1" in frozen.value
    app.call("/greet", {"name": "Bo"})
    assert frozen.value.count("/greet") == 1  # frozen: later requests do not show
    view.close()  # again: the notebooks' last cell closes the view, then stops its server (which closes it too)
    assert view.children == (frozen,) and view.comm is not None and frozen.comm is not None
    view.close(keep=False)
    assert view.comm is None


def test_closing_the_view_then_stopping_its_server_keeps_the_picture(app):
    """Notebooks 01, 03, 05 and 06 end with view.close(); server.stop(): the view must not vanish."""
    view = app.log_view()
    server = app.serve(port=0)
    requests.post(f"{server.url}/greet", json={"name": "Ada"}, timeout=5)
    view.close()
    server.stop()
    (frozen,) = view.children
    assert view.comm is not None and "Stopped: this log view no longer updates" in frozen.value
    assert "/greet" in frozen.value


def test_stopping_the_server_freezes_its_view_with_a_stopped_note(app):
    """Notebook 08 ends with server.stop() alone: its view keeps its rows and says it stopped."""
    view = app.log_view()  # made before the server: it follows the one served later
    server = app.serve(port=0)
    assert requests.post(f"{server.url}/greet", json={"name": "Ada"}, timeout=5).status_code == 200
    server.stop()
    (frozen,) = view.children
    assert view._closed and view.comm is not None and "tk-frozen" in frozen._dom_classes
    assert "Stopped with its server: this log view no longer updates; its last state is shown." in frozen.value
    assert "/greet" in frozen.value and "Showing 1 of 1" in frozen.value
    app.call("/greet", {"name": "Bo"})
    assert frozen.value.count("/greet") == 1


def test_serving_again_moves_the_view_to_the_new_server_instead_of_freezing_it(app):
    view = app.log_view()
    first = app.serve(port=0)
    second = app.serve(port=0)  # a re-run serve cell replaces the first server
    try:
        assert not first.running and not view._closed
        requests.post(f"{second.url}/greet", json={"name": "Ada"}, timeout=5)
        wait_until(lambda: len(view.shown) == 1 and f":{second.port}" in view.link.value)
    finally:
        second.stop()
    assert view._closed and "Stopped with its server" in view.children[0].value


def test_a_server_stopped_at_interpreter_exit_freezes_nothing(app):
    view = app.log_view()
    server = app.serve(port=0)
    try:
        server._stop("exit")  # what the atexit hook does
        assert server.stop_reason == "exit" and not view._closed and len(view.children) > 1
    finally:
        view.close(keep=False)


def test_a_view_of_another_app_ignores_this_apps_server(app):
    other = tk.App("other")
    view = other.log_view()
    try:
        app.serve(port=0).stop()
        assert not view._closed
    finally:
        view.close(keep=False)


def test_a_replaced_view_says_which_view_replaced_it(app):
    first = app.log_view()
    app.call("/greet", {"name": "Ada"})
    second = app.log_view()
    try:
        (frozen,) = first.children
        assert "Replaced by a newer view" in frozen.value and "/greet" in frozen.value
    finally:
        second.close(keep=False)


def test_bad_view_settings_fail_with_the_fix(app):
    with pytest.raises(tk.ConfigError, match="view_rows >= 1 and view_max_fps > 0; got 0"):
        tk.LogView(app, rows=0)
    app.configure(view_max_fps=0.0)
    with pytest.raises(tk.ConfigError, match="app.configure"):
        app.log_view()


def test_the_action_buttons_work_from_a_click(app, view, tmp_path):
    bar = view.children[3]
    buttons = {b.description: b for b in bar.children if isinstance(b, type(view.clear_button))}
    assert set(buttons) == {"Replay", "Replay all", "Save fixture", "Save shown"}
    buttons["Replay"].click()
    assert "Select a row first" in view.notice.value
    app.call("/greet", {"name": "Ada"})
    view.select(app.log.last())
    buttons["Replay"].click()
    assert "same answer as before" in view.notice.value and "Before" in view.comparison.value
    buttons["Replay all"].click()
    assert "Replayed 1 request(s): 0 answer(s) changed." in view.notice.value
    view.folder.value = str(tmp_path)
    buttons["Save shown"].click()
    assert [p.name for p in tmp_path.iterdir()] == ["greet-1.json"]
    view.clear_button.click()
    assert view.shown == []


def test_edit_and_replay_from_the_detail_pane(app, view):
    _shop(app)
    assert view.editor.layout.display == "none"  # nothing selected: no editor
    assert view.edit() is None and "Select a row first" in view.notice.value
    app.call("/orders", {"order_id": "A-1"}, headers={"Authorization": "Bearer abcdefghijkl"})
    view.select(app.log.last())
    assert view.editor.layout.display == "flex" and view.edit_area.layout.display == "none"
    view.edit_button.click()
    assert view.edit_area.layout.display == "flex"
    assert json.loads(view.edit_text.value) == {"query": {}, "headers": {"Authorization": "***"},
                                                "body": {"order_id": "A-1"}}
    view.edit_text.value = view.edit_text.value.replace('"A-1"', '"B-2"')
    view.replay_edited_button.click()
    new = app.log.last()
    assert new.id == 2 and new.source == "replay" and new.flags == ["edited"] and new.body == {"order_id": "B-2"}
    assert "Replayed #1 as edited (logged as #2): changed: session, messages." in view.notice.value
    assert "Order B-2 shipped." in view.comparison.value and "Order A-1 shipped." in view.comparison.value
    view.refresh()
    first_row = view.table_html.value.split('class="tk-row"')[1]
    assert ">edited<" in first_row and ">replay<" in first_row  # logged like any replay, marked as edited


@pytest.mark.parametrize("bad", ["{oops", '{"path": "/other"}', '{"query": [1]}', "null"])
def test_a_bad_edit_shows_in_the_notice_line_and_nothing_breaks(app, view, bad):
    app.call("/greet", {"name": "Ada"})
    view.select(app.log.last())
    view.edit()
    assert view.replay_edited(bad) is None
    assert "ReplayError" in view.notice.value and len(app.log) == 1
    assert view.replay_edited('{"body": {"name": "Bo"}}').new.response["messages"][0] == tk.text("Hello Bo!")
    assert len(app.log.to_frame()) == 2


def test_in_a_kernel_the_replaced_view_names_the_cell_that_replaced_it():
    import nbformat
    from nbclient import NotebookClient

    cells = ["import toolkit\napp = toolkit.App('kernel-demo')\nfirst = app.log_view()\nfirst",
             "second = app.log_view()\nsecond",
             "print(first.children[0].value)\nsecond.close()\nprint(second.children[0].value)",
             "third = app.log_view()\nserver = app.serve(port=0)\nserver.stop()\nprint(third.children[0].value)"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    printed = "".join(o.get("text", "") for o in nb.cells[2].outputs)
    assert "Replaced by the view in cell [2]: the live log of &#x27;kernel-demo&#x27; continues there." in printed
    assert "Stopped: this log view no longer updates" in printed
    assert [o["data"]["text/plain"] for o in nb.cells[1].outputs] == ["LogView(app='kernel-demo')"]
    stopped = "".join(o.get("text", "") for o in nb.cells[3].outputs)
    assert "Stopped with its server in cell [4]: this log view no longer updates" in stopped
