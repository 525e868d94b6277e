"""URLs for humans behind JupyterHub / jupyter-server-proxy: the server's display, the log view's link and
the guide's "from this browser" row are proxied; server.url and the tunnel's URLs (what bots call) are not."""

from __future__ import annotations

import pytest
import requests

import toolkit as tk
from toolkit.proxyurls import human_url, proxy_template


@pytest.mark.parametrize("setting,env,kernel,expected", [
    ("auto", {"JUPYTERHUB_SERVICE_PREFIX": "/user/ada/"}, False, "/user/ada/proxy/{port}"),
    ("auto", {}, False, ""),  # a script or a test: direct
    ("off", {"JUPYTERHUB_SERVICE_PREFIX": "/user/ada/"}, True, ""),
    ("https://hub.example.org/user/ada/proxy/", {}, False, "https://hub.example.org/user/ada/proxy/{port}"),
    ("/lab/proxy/{port}/app", {}, False, "/lab/proxy/{port}/app"),
])
def test_the_template_comes_from_the_setting_or_the_hub(setting, env, kernel, expected):
    assert proxy_template(setting, env, in_kernel=kernel) == expected


def test_a_kernel_with_jupyter_server_proxy_uses_its_proxy_path(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: object() if name == "jupyter_server_proxy" else real(name, *a))
    assert proxy_template("auto", {}, in_kernel=True) == "/proxy/{port}"
    assert proxy_template("auto", {}, in_kernel=False) == ""


def test_humans_get_the_proxied_url_bots_the_direct_one(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ada/")
    app = tk.App("hub-demo")
    app.add_handler("/hi", lambda: "hi")
    view = app.log_view()
    server = app.serve(port=0)
    try:
        assert server.url == f"http://127.0.0.1:{server.port}"  # programs and the emulator use this
        assert requests.post(server.url + "/hi", json={}, timeout=10).status_code == 200
        assert server.browser_url == f"/user/ada/proxy/{server.port}"
        assert f'href="/user/ada/proxy/{server.port}/_toolkit/health"' in server._repr_html_()
        view.refresh()
        assert f'href="/user/ada/proxy/{server.port}/_toolkit/health"' in view.link.value
        tunnel = server.expose(provider="fake")
        try:
            assert all(url.startswith(tunnel.url) for url in tunnel.urls.values())  # the bot's URLs
            assert f"From this browser (not for the bot): /user/ada/proxy/{server.port}" in str(tunnel)
            assert f'href="/user/ada/proxy/{server.port}"' in tunnel._repr_html_()
        finally:
            server.unexpose()
        app.configure(proxy_url_prefix="off")
        assert server.browser_url == server.url
    finally:
        server.stop()
        view.close(keep=False)
    assert server._repr_html_() is None  # stopped: the text repr is all


def test_without_a_hub_nothing_changes(monkeypatch):
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    assert human_url("http://127.0.0.1:5000", 5000, "auto") == "http://127.0.0.1:5000"  # not in a kernel
