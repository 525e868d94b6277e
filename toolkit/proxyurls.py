"""URLs for humans when the kernel runs behind JupyterHub or ``jupyter-server-proxy``.

There the browser cannot open ``http://127.0.0.1:5000``: it reaches a kernel's server at
``<hub prefix>/proxy/5000/``. The toolkit shows that proxied URL wherever a person clicks or reads (the
server's display, the log view's link, the paste guide's "from this browser" row), while everything a
program or a bot calls (``server.url``, the tunnel's public URL) stays direct.

The ``proxy_url_prefix`` setting decides: ``"auto"`` (the default) uses ``$JUPYTERHUB_SERVICE_PREFIX``
+ ``proxy/{port}`` when JupyterHub set it, else ``/proxy/{port}`` in a Jupyter kernel that has
``jupyter_server_proxy`` installed, else nothing; ``"off"`` never proxies; any other value is the
template itself (``{port}`` is appended when missing), e.g. ``https://hub.example.org/user/ada/proxy``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Mapping

OFF = ("", "off", "none", "no", "false")


def proxy_template(setting: str, env: Mapping[str, str] | None = None, *,
                   in_kernel: bool | None = None) -> str:
    """The proxied-URL template for ``setting`` (``""``: URLs stay direct).

    Args:
        setting: the ``proxy_url_prefix`` value: ``"auto"``, ``"off"`` or a prefix/template.
        env: the environment to read ``JUPYTERHUB_SERVICE_PREFIX`` from (default ``os.environ``).
        in_kernel: whether this runs in a Jupyter kernel (default: detected).

    >>> proxy_template("auto", {"JUPYTERHUB_SERVICE_PREFIX": "/user/ada/"})
    '/user/ada/proxy/{port}'
    >>> proxy_template("https://hub.example.org/user/ada/proxy")
    'https://hub.example.org/user/ada/proxy/{port}'
    """
    value = str(setting or "").strip()
    if value.lower() in OFF:
        return ""
    if value.lower() != "auto":
        return value if "{port}" in value else value.rstrip("/") + "/{port}"
    hub = (os.environ if env is None else env).get("JUPYTERHUB_SERVICE_PREFIX", "")
    if hub:
        return hub.rstrip("/") + "/proxy/{port}"
    kernel = _in_kernel() if in_kernel is None else in_kernel
    if kernel and importlib.util.find_spec("jupyter_server_proxy") is not None:
        return "/proxy/{port}"
    return ""


def human_url(direct: str, port: int, setting: str) -> str:
    """The URL a person should open for a server on ``port`` whose direct URL is ``direct``.

    >>> human_url("http://127.0.0.1:5000", 5000, "/user/ada/proxy")
    '/user/ada/proxy/5000'
    >>> human_url("http://127.0.0.1:5000", 5000, "off")
    'http://127.0.0.1:5000'
    """
    template = proxy_template(setting)
    return template.replace("{port}", str(port)) if template else direct


def _in_kernel() -> bool:
    """Whether this process is a Jupyter kernel (IPython with a kernel attached)."""
    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    return getattr(get_ipython(), "kernel", None) is not None
