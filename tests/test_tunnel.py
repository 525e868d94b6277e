"""server.expose(): the fake provider end to end over loopback, one agent per kernel, and the real
(pyngrok) path's failures, each clear and fast. No test leaves this machine: the fake provider refuses
every other host, and the ngrok tests point pyngrok at loopback or at a stand-in agent.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path

import pytest
import requests
from helpers import wait_until

import toolkit
from toolkit import tunnel
from toolkit.errors import TunnelError
from toolkit.tunnel.expose import FakeProvider, TunnelProvider
from toolkit.tunnel.ngrok import NgrokProvider, explain

FAKE_URL = re.compile(r"^https://[0-9a-f]{8}\.fake-tunnel\.test$")


@pytest.fixture(autouse=True)
def fresh_agent():
    tunnel.close_all()
    yield
    tunnel.close_all()


@pytest.fixture
def shop():
    app = toolkit.App("tunnel-shop")

    @app.handler("/order-status")
    def order_status(order_id: str):
        return toolkit.Reply(session={"order": order_id}, messages=[toolkit.text(f"Order {order_id} shipped.")])

    @app.handler("/stock", methods=["GET"])
    def stock():
        return "3 in stock"

    server = app.serve(port=0)
    yield app, server
    server.stop()


def _tunnel_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "toolkit-tunnel-open"}


# --- the fake provider: URL, auth, reuse, stop ------------------------------------------------


def test_expose_returns_the_public_url_per_handler(shop):
    app, server = shop
    t = server.expose(provider="fake")
    assert FAKE_URL.match(t.url)
    assert t.urls == {"/order-status": t.url + "/order-status", "/stock": t.url + "/stock"}
    steps = {s["handler"]: s for s in t.steps()}
    assert steps["stock"]["method"] == "GET" and steps["order_status"]["method"] == "POST"
    assert repr(t) == "<Tunnel 'tunnel-shop' via fake: 2 handlers, Bearer auth>"


def test_auth_is_enforced_on_requests_through_the_tunnel(shop):
    app, server = shop
    t = server.expose(provider="fake")
    session = t.session()
    refused = session.post(t.urls["/order-status"], json={"order_id": "A-1"})
    assert refused.status_code == 401
    assert refused.json()["error"]["type"] == "unauthorized"
    wrong = session.post(t.urls["/order-status"], json={"order_id": "A-1"},
                         headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    ok = session.post(t.urls["/order-status"], json={"order_id": "A-1"}, headers=t.auth_headers())
    assert ok.status_code == 200
    assert ok.json()["messages"][0]["config"]["textMessages"][0]["text"] == "Order A-1 shipped."
    last = app.log.last()
    assert last.headers["Host"] == t.url.removeprefix("https://")
    assert last.headers["X-Forwarded-Proto"] == "https"
    assert last.headers["Authorization"] == "***"  # the log never keeps the token


def test_a_generated_token_is_shown_once_then_masked(shop):
    app, server = shop
    assert app.settings.auth_bearer == ""
    t = server.expose(provider="fake")
    token = app.settings.auth_bearer
    assert len(token) >= 24
    first = t._repr_html_()
    assert f"Authorization: Bearer {token}" in first and "shown this once" in first
    later = str(t)
    assert token not in later and "Authorization: Bearer ********" in later
    assert token not in t._repr_html_() and token not in repr(t)
    assert "Authorization tab: Bearer token" in later
    assert f"POST   {t.url}/order-status" in later and f"GET    {t.url}/stock" in later


def test_configured_access_control_is_kept_and_never_shown(shop):
    app, server = shop
    app.configure(auth_basic="bot:s3cret-pass", auth_header="X-Api-Key: k3y-value")
    t = server.expose(provider="fake")
    assert app.settings.auth_bearer == ""  # nothing generated: access control was already on
    guide = t._repr_html_() + str(t)
    assert "Basic auth" in guide and "username &#x27;bot&#x27;" in guide and "Key 'X-Api-Key'" in guide
    assert "s3cret-pass" not in guide and "k3y-value" not in guide
    ok = t.session().get(t.urls["/stock"], headers=t.auth_headers())
    assert ok.status_code == 200
    assert repr(t) == "<Tunnel 'tunnel-shop' via fake: 2 handlers, Basic + header auth>"


def test_a_chosen_token_is_used(shop):
    app, server = shop
    t = server.expose(provider="fake", token="my-demo-token-123")
    assert app.settings.auth_bearer == "my-demo-token-123"
    assert "my-demo-token-123" not in str(t)  # only a generated token is ever shown
    assert t.session().get(t.urls["/stock"], headers={"Authorization": "Bearer my-demo-token-123"}).ok


def test_re_expose_reuses_the_agent_and_the_tunnel(shop):
    app, server = shop
    provider = FakeProvider()
    first = server.expose(provider=provider)
    again = server.expose(provider=FakeProvider())  # a re-run cell builds an equal provider
    assert again is first and tunnel.agent() is provider
    assert provider.starts == 1 and len(provider.routes) == 1
    # Re-running the notebook: a new server replaces the old one, whose tunnel closes; the agent stays.
    server2 = app.serve(port=0)
    assert not first.is_open and provider.routes == {}
    t2 = server2.expose(provider="fake")
    assert tunnel.agent() is provider and provider.starts == 1 and len(provider.routes) == 1
    assert t2.session().get(t2.urls["/stock"], headers=t2.auth_headers()).ok
    server2.stop()


def test_stop_closes_the_tunnel(shop):
    app, server = shop
    t = server.expose(provider="fake")
    session, headers = t.session(), t.auth_headers()
    assert session.get(t.urls["/stock"], headers=headers).ok
    server.stop()
    assert not t.is_open and repr(t) == "<Tunnel 'tunnel-shop' via fake: closed>"
    assert tunnel.agent().routes == {}
    with pytest.raises(requests.ConnectionError, match="is closed"):
        session.get(t.urls["/stock"], headers=headers)
    assert tunnel.agent().running  # the agent waits for the next expose...
    tunnel.close_all()
    assert tunnel.agent() is None  # ...until interpreter exit (atexit) or close_all()


def test_re_expose_restores_access_control_switched_off_meanwhile(shop):
    app, server = shop
    t = server.expose(provider="fake")
    str(t)  # the token was shown
    app.configure(auth_bearer="")
    assert server.expose(provider="fake") is t
    token = app.settings.auth_bearer
    assert token and f"Bearer {token}" in str(t)  # a new token, shown once
    assert t.session().get(t.urls["/stock"]).status_code == 401


def test_a_failed_expose_leaves_the_app_as_it_was(shop):
    app, server = shop
    release = threading.Event()
    before = _tunnel_threads()
    with pytest.raises(TunnelError, match="did not open"):
        server.expose(provider=Recorder(block=release), timeout_s=0.2)
    assert app.settings.auth_bearer == ""  # no token the user never saw
    assert app.call("/stock", method="GET")["messages"]
    release.set()
    assert wait_until(lambda: _tunnel_threads() <= before, 10.0)


def test_unexpose_closes_and_is_safe_twice(shop):
    app, server = shop
    t = server.expose(provider="fake")
    server.unexpose()
    server.unexpose()
    assert not t.is_open and "closed" in str(t)
    assert server.running  # the local server keeps serving
    t2 = server.expose(provider="fake")
    assert t2 is not t and t2.is_open and tunnel.agent().starts == 1


def test_expose_needs_a_running_server(shop):
    app, server = shop
    server.stop()
    with pytest.raises(TunnelError, match="not running") as info:
        server.expose(provider="fake")
    assert "app.serve(port=0)" in info.value.hint


def test_unknown_provider_names_the_choices(shop):
    with pytest.raises(TunnelError, match="Unknown tunnel provider 'ngork'") as info:
        shop[1].expose(provider="ngork")
    assert "fake" in info.value.hint and "ngrok" in info.value.hint


def test_the_fake_provider_never_leaves_this_machine():
    session = FakeProvider().session()
    with pytest.raises(requests.ConnectionError, match="never leaves this machine"):
        session.get("https://example.com/")


class Recorder(TunnelProvider):
    """Another tunnel tool, plugged in through the interface."""

    name = "recorder"

    def __init__(self, block: threading.Event | None = None) -> None:
        self.block, self.events = block, []

    def open(self, local_url, timeout_s):
        self.events.append(("open", local_url))
        if self.block is not None:
            self.block.wait(120)  # a guard only: the test sets it
            self.events.append(("returned",))
        return "https://recorded.example"

    def close(self, public_url):
        self.events.append(("close", public_url))

    def shutdown(self):
        self.events.append(("shutdown",))

    def abort(self):
        self.events.append(("abort",))


def test_another_provider_plugs_in_and_replaces_the_running_agent(shop, monkeypatch):
    app, server = shop
    monkeypatch.setitem(tunnel.PROVIDERS, "recorder", Recorder)
    fake = FakeProvider()
    server.expose(provider=fake)
    t = server.expose(provider="recorder")
    assert not fake.running  # one agent per kernel: the fake one was stopped
    assert t.url == "https://recorded.example" and t.urls["/stock"] == "https://recorded.example/stock"
    assert tunnel.agent().events == [("open", server.url)]
    server.stop()
    assert tunnel.agent().events[-1] == ("close", "https://recorded.example")


def test_a_provider_that_hangs_fails_at_the_deadline_and_is_cleaned_up(shop):
    app, server = shop
    before = _tunnel_threads()
    release = threading.Event()
    slow = Recorder(block=release)
    with pytest.raises(TunnelError, match="did not open within 0.5 s") as info:
        server.expose(provider=slow, timeout_s=0.5)
    assert ("returned",) not in slow.events  # it failed at the deadline, while the provider still hung
    assert "provider='fake'" in info.value.hint and "tunnel_timeout_s" in info.value.hint
    assert slow.events[-1] == ("abort",)
    release.set()  # the stuck attempt returns late: what it opened is cleaned up again
    assert wait_until(lambda: slow.events.count(("abort",)) == 2, 10.0)
    assert wait_until(lambda: _tunnel_threads() <= before, 10.0)


def test_the_default_deadline_is_15_seconds():
    assert toolkit.Settings().tunnel_timeout_s == 15.0


def test_interpreter_exit_stops_the_agent(tmp_path):
    marker = tmp_path / "stopped"
    script = textwrap.dedent(f"""
        import toolkit
        from toolkit.tunnel.expose import FakeProvider

        class Marked(FakeProvider):
            def shutdown(self):
                super().shutdown()
                open({str(marker)!r}, "w").close()

        app = toolkit.App("exit")
        server = app.serve(port=0)
        server.expose(provider=Marked())
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert marker.exists()


# --- the real (pyngrok) path: clear failures, fast --------------------------------------------


def test_pyngrok_missing_says_how_to_install(shop, monkeypatch):
    app, server = shop
    monkeypatch.setitem(sys.modules, "pyngrok", None)
    monkeypatch.setitem(sys.modules, "pyngrok.ngrok", None)
    with pytest.raises(TunnelError, match="pyngrok is not installed") as info:  # its own error: fast,
        server.expose(timeout_s=600)  # not the deadline's (ngrok is the default provider)
    assert "pip install pyngrok" in info.value.hint and "pip install -e '.[ngrok]'" in info.value.hint
    assert app.settings.auth_bearer == ""  # nothing changed on the app


def test_no_authtoken_says_where_to_get_it_and_how_to_set_it(shop, tmp_path, monkeypatch):
    app, server = shop
    monkeypatch.delenv("NGROK_AUTHTOKEN", raising=False)
    config = tmp_path / "ngrok.yml"
    config.write_text("version: '3'\nagent: {}\n")
    with pytest.raises(TunnelError, match="No ngrok authtoken") as info:  # its own error, not the deadline's
        server.expose(provider=NgrokProvider(config_path=str(config)), timeout_s=600)
    hint = info.value.hint
    assert "dashboard.ngrok.com" in hint and "NGROK_AUTHTOKEN" in hint and "ngrok config add-authtoken" in hint
    assert str(config) in info.value.message


def test_an_authtoken_from_env_or_config_file_passes_the_check(tmp_path, monkeypatch):
    monkeypatch.delenv("NGROK_AUTHTOKEN", raising=False)
    config = tmp_path / "ngrok.yml"
    config.write_text("version: '3'\nagent:\n  authtoken: abc123\n")
    NgrokProvider(config_path=str(config)).check()
    monkeypatch.setenv("NGROK_AUTHTOKEN", "from-env")
    NgrokProvider(config_path=str(tmp_path / "none.yml")).check()
    assert "from-env" not in repr(NgrokProvider(authtoken="from-env"))


@pytest.fixture
def offline_ngrok(tmp_path, monkeypatch):
    """An NgrokProvider whose agent download goes to a loopback address (nothing leaves the machine)."""
    import pyngrok.installer

    config = tmp_path / "ngrok.yml"
    config.write_text("")

    def provider(download_port: int) -> NgrokProvider:
        monkeypatch.setattr(pyngrok.installer, "get_ngrok_cdn_url",
                            lambda *a, **k: f"http://127.0.0.1:{download_port}/ngrok-v3-stable-linux-amd64.zip")
        return NgrokProvider(authtoken="test-token", config_path=str(config),
                             ngrok_path=str(tmp_path / "bin" / "ngrok"))

    return provider


def test_no_network_fails_fast_with_a_clear_message(shop, offline_ngrok):
    app, server = shop
    with socket.socket() as s:  # bound, never listening: refused at once, and held so no one else takes it
        s.bind(("127.0.0.1", 0))  # (closing it first let another process bind the port meanwhile)
        with pytest.raises(TunnelError, match="Could not download the ngrok agent") as info:  # not the deadline
            server.expose(provider=offline_ngrok(s.getsockname()[1]), timeout_s=600)
    assert "provider='fake'" in info.value.hint and "PYNGROK_NGROK_PATH" in info.value.hint


def test_a_network_that_never_answers_hits_the_deadline(shop, offline_ngrok, monkeypatch):
    import pyngrok.installer

    app, server = shop
    before = _tunnel_threads()
    monkeypatch.setattr(pyngrok.installer, "DEFAULT_DOWNLOAD_TIMEOUT", 600)  # the download waits until we close
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        with pytest.raises(TunnelError, match="did not open within 1 s"):
            server.expose(provider=offline_ngrok(silent.getsockname()[1]), timeout_s=1)
        assert _tunnel_threads() - before  # it failed at the deadline, while the download still waited
    assert wait_until(lambda: _tunnel_threads() <= before, 10.0)


def test_an_agent_that_hangs_is_killed_at_the_deadline(shop, tmp_path, monkeypatch):
    """The agent starts but never reports (no network): it is killed, no process is left."""
    app, server = shop
    before = _tunnel_threads()
    agent = tmp_path / "ngrok"
    agent.write_text("#!/bin/sh\nexec sleep 60\n")
    agent.chmod(0o755)
    config = tmp_path / "ngrok.yml"
    config.write_text("")
    # Every process started from here on carries this mark in its environment: the test finds the
    # agent (and anything it started) whether or not it ran long enough to say who it is. (A pidfile
    # written by the agent was read before it was written when the machine was slow.)
    mark = f"TOOLKIT_TEST_AGENT={uuid.uuid4().hex}"
    monkeypatch.setenv(*mark.split("="))
    provider = NgrokProvider(authtoken="test-token", config_path=str(config), ngrok_path=str(agent))
    with pytest.raises(TunnelError, match="did not open within 1.5 s"):
        server.expose(provider=provider, timeout_s=1.5)
    assert wait_until(lambda: _tunnel_threads() <= before, 10.0)
    assert wait_until(lambda: not _alive_with(mark), 10.0), f"the hung agent was left running: {_alive_with(mark)}"


def _alive_with(mark: str) -> list[int]:
    """The live (not zombie) processes whose environment holds ``mark``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            env = (proc / "environ").read_bytes().split(b"\0")
            state = next(line for line in (proc / "status").read_text().splitlines() if line.startswith("State:"))
        except (OSError, StopIteration):  # gone meanwhile, or not ours to read
            continue
        if mark.encode() in env and "zombie" not in state:
            found.append(int(proc.name))
    return found


def test_ngrok_errors_are_explained():
    from pyngrok.exception import PyngrokNgrokError

    bad_token = explain(PyngrokNgrokError("failed", ngrok_error="ERR_NGROK_105: authentication failed"))
    assert "rejected the authtoken" in bad_token.message and "dashboard.ngrok.com" in bad_token.hint
    two = explain(PyngrokNgrokError("failed", ngrok_error="ERR_NGROK_108: limited to 1 session"))
    assert "free plan allows one" in two.message and "close_all" in two.hint


@pytest.mark.skipif(not os.environ.get("TOOLKIT_TEST_REAL_NGROK"),
                    reason="needs the internet and an ngrok authtoken: set TOOLKIT_TEST_REAL_NGROK=1")
def test_real_ngrok_round_trip(shop):  # pragma: no cover - not run in CI (no network there)
    app, server = shop
    t = server.expose()
    assert t.url.startswith("https://")
    assert requests.get(t.urls["/stock"], headers=t.auth_headers(), timeout=15).ok
