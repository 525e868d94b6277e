"""``app.serve()``'s lifecycle on a real waitress server on loopback: bind in the caller's thread,
replace on re-run, busy ports with the way out, stop completely (20 cycles on one port, nothing of
this test left: threads and sockets), stop during a slow handler, stop at interpreter exit."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from helpers import wait_until
from wire import GREETING, healthy, listening, make_app, request, socket_inodes, text_of

import toolkit as tk
from toolkit import server as server_mod
from toolkit.errors import PortInUse

ROOT = Path(__file__).resolve().parents[1]


def test_serve_returns_a_listening_server():
    with make_app().serve(port=0) as server:
        assert server.running and server.app.server is server
        assert server.url == f"http://127.0.0.1:{server.port}" and server.port > 0
        assert listening(server.port)
        assert request(server, "POST", "/greet", {"name": "Ada"}) == (200, GREETING)
        assert repr(server) == "<Server 'srv' running>"
        assert isinstance(server, tk.Server)


def test_start_stop_restart_20_times_on_one_port_leaves_nothing_of_this_test():
    app = make_app()
    threads_before, sockets_before = set(threading.enumerate()), socket_inodes()
    port = app.serve(port=0).port
    app.server.stop()
    for i in range(20):
        server = app.serve(port=port)
        assert server.port == port and listening(port)
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)  # left open over the stop
        client.request("POST", "/greet", body=json.dumps({"name": str(i)}))
        assert text_of(json.loads(client.getresponse().read())) == f"Hello {i}!"
        server.stop()
        client.close()
        assert not server.running and not listening(port) and app.server is None
    # Only what this test created counts: a thread or socket of an earlier test may end meanwhile.
    assert set(threading.enumerate()) - threads_before == set()
    assert socket_inodes() - sockets_before == set()


def test_stop_is_idempotent_frees_the_port_and_works_as_a_context_manager():
    with make_app().serve(port=0) as server:
        assert healthy(server)
        port = server.port
    assert not server.running and not listening(port)
    server.stop()
    assert repr(server) == "<Server 'srv' stopped>"


def test_rerunning_serve_on_the_same_port_replaces_the_apps_server():
    app = make_app()
    first = app.serve(port=0)
    second = app.serve(port=first.port)  # the re-run cell: no "address in use"
    try:
        assert not first.running and second.running and app.server is second
        assert second.port == first.port and healthy(second)
        assert second in server_mod.running() and first not in server_mod.running()
    finally:
        second.stop()


def test_a_rerun_notebook_with_a_new_app_of_the_same_name_replaces_the_old_server():
    old = make_app("shop").serve(port=0)
    new_app = make_app("shop")

    @new_app.handler("/greet")
    def greet():
        return "the new app"

    new = new_app.serve(port=old.port)
    try:
        assert not old.running and new.running and new.app is new_app
        assert old.app.server is None
        assert text_of(request(new, "POST", "/greet")[1]) == "the new app"
    finally:
        new.stop()


def test_a_port_held_by_another_program_gives_the_way_out_not_systemexit():
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        port = other.getsockname()[1]
        with pytest.raises(PortInUse) as info:
            make_app().serve(port=port)
    err = info.value
    assert f"Port {port}" in err.message and "in use" in err.message
    assert "port=0" in err.hint and err.port == port
    assert err.free_port and err.free_port != port and f"port={err.free_port}" in err.hint
    assert "Traceback" not in str(err)


@pytest.mark.parametrize("spelling, port0, host", [("NOTEBOOK", "app.serve(port=0)", "host='127.0.0.1'"),
                                                    ("COMMAND_LINE", "--port 0", "--host 127.0.0.1")])
def test_listen_errors_spell_the_fix_for_where_the_reader_is(spelling, port0, host):
    """One mapping of bind failures for app.serve() and `toolkit serve`: the same cases, each fix in the
    reader's own terms."""
    import errno

    lifecycle = server_mod.lifecycle
    how = getattr(lifecycle, spelling)
    rights = lifecycle.listen_error(OSError(errno.EACCES, "Permission denied"), "127.0.0.1", 80, how)
    assert isinstance(rights, tk.ConfigError) and rights.hint == f"Use a port above 1023, or {port0} to pick a free one."
    other = lifecycle.listen_error(OSError(errno.EADDRNOTAVAIL, "Cannot assign"), "10.9.9.9", 5000, how)
    assert other.message == "Cannot listen on 10.9.9.9:5000: Cannot assign." and host in other.hint
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        taken = lifecycle.listen_error(OSError(errno.EADDRINUSE, "in use"), "127.0.0.1", port, how)
    assert isinstance(taken, PortInUse) and taken.port == port and taken.hint.startswith(f"Use {port0} ")


def test_a_port_held_by_another_app_of_this_kernel_names_it():
    billing = make_app("billing").serve(port=0)
    try:
        with pytest.raises(PortInUse, match="served by app 'billing' in this kernel") as info:
            make_app("shop").serve(port=billing.port)
        assert "port=0" in info.value.hint and billing.running and healthy(billing)
    finally:
        billing.stop()


@pytest.mark.parametrize("port", [-1, 70000, "5000", 1.5])
def test_a_bad_port_is_a_config_error(port):
    with pytest.raises(tk.ConfigError, match="port must be a whole number"):
        make_app().serve(port=port)


def test_serve_applies_settings_and_rejects_unknown_ones():
    app = make_app()
    with app.serve(port=0, deadline_s=2, debug=True) as server:
        assert app.settings.deadline_s == 2.0 and server.running
    with pytest.raises(tk.ConfigError, match="deadline"):
        app.serve(port=0, deadlin_s=2)
    with pytest.raises(tk.ConfigError, match="auth_header"):
        app.serve(port=0, auth_header="no-colon")
    assert app.server is None


def test_on_stop_callbacks_run_once_and_a_failing_one_does_not_block_the_stop():
    server = make_app().serve(port=0)
    calls = []
    server.on_stop(lambda: calls.append("a"))
    server.on_stop(lambda: 1 / 0)
    server.on_stop(lambda: calls.append("b"))
    server.stop()
    server.stop()
    assert calls == ["a", "b"] and not listening(server.port)
    server.on_stop(lambda: calls.append("late"))  # already stopped: runs at once
    assert calls[-1] == "late"


def test_stop_reason_says_who_stopped_it_and_on_serve_sees_each_new_server():
    import gc

    app = make_app()
    seen: list[tuple[str, int]] = []

    class Watcher:
        def saw(self, server):
            seen.append((server.app.name, server.port))

    watcher = Watcher()
    server_mod.on_serve(watcher.saw)
    first = app.serve(port=0)
    assert first.stop_reason == ""
    second = app.serve(port=0)  # a re-run cell
    assert first.stop_reason == "replaced" and seen == [(app.name, first.port), (app.name, second.port)]
    second.stop()
    assert second.stop_reason == "stop"
    del watcher
    gc.collect()
    app.serve(port=0).stop()  # held weakly: a watcher that is gone is not called
    assert len(seen) == 2


def test_stop_all_stops_every_server_of_the_process():
    a, b = make_app("a").serve(port=0), make_app("b").serve(port=0)
    server_mod.stop_all()
    assert not a.running and not b.running and a not in server_mod.running() and b not in server_mod.running()


def test_stop_during_a_slow_handler_returns_says_so_and_the_thread_ends_when_it_returns():
    app = make_app()
    entered, release = threading.Event(), threading.Event()

    @app.handler("/wait")
    def wait():
        entered.set()
        release.wait(30)
        return "late"

    threads_before = set(threading.enumerate())
    server = app.serve(port=0)
    outcome: list[object] = []

    def call() -> None:
        try:
            outcome.append(request(server, "POST", "/wait"))
        except OSError as exc:  # the connection is closed by the stop: expected
            outcome.append(type(exc))

    caller = threading.Thread(target=call)
    caller.start()
    assert entered.wait(10)
    server.stop()
    assert not server.running and not listening(server.port)
    assert "still in a handler" in app.notices[-1]
    caller.join(10)
    assert not caller.is_alive() and outcome and outcome[0] != (200, GREETING)
    release.set()
    wait_until(lambda: not set(threading.enumerate()) - threads_before, 10,
               "the worker thread to end once the handler returned")
    assert app.log.last().path == "/wait" and app.log.last().status == 200  # still logged


SERVE_AND_EXIT = """
import http.client, json, sys, threading
import toolkit as tk

app = tk.App("exiting")
app.add_handler("/greet", lambda name="there": f"Hello {name}!")
started = threading.Event()

@app.handler("/slow")
def slow():
    started.set()
    threading.Event().wait(60)

server = app.serve(port=0)
conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
conn.request("POST", "/greet", body=json.dumps({"name": "exit"}))
print(json.loads(conn.getresponse().read())["messages"][0]["config"]["textMessages"][0]["text"])
if sys.argv[1] == "busy":  # a handler is still running when the interpreter exits
    threading.Thread(target=lambda: http.client.HTTPConnection("127.0.0.1", server.port,
                     timeout=60).request("POST", "/slow"), daemon=True).start()
    started.wait(10)
sys.stdout.flush()
"""


@pytest.mark.parametrize("mode", ["idle", "busy"])
def test_a_process_that_serves_exits_cleanly_without_calling_stop(mode):
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(SERVE_AND_EXIT), mode], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout, out.stderr) == (0, "Hello exit!\n", "")
