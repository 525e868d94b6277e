"""The server layer: where a request enters.

``adapter`` is the app's Flask object, ``app.flask`` (one catch-all rule calling
:meth:`toolkit.App.handle`), ``engine`` serves it with waitress on a daemon thread of the kernel, and
``lifecycle`` is ``app.serve()``: bind in the caller's thread, replace on re-run, stop completely.
"""

from .lifecycle import Server, next_free_port, on_serve, running, serve, stop_all

__all__ = ["Server", "next_free_port", "on_serve", "running", "serve", "stop_all"]
