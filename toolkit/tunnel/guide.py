"""What ``server.expose()`` returns: the public URL and what to paste into the Chatlayer API step
(per handler the URL and method; the Authorization tab or header row). A generated token is shown
in full once, then masked.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from ..html.templates import macro

MASK = "********"
ANY_METHOD = "POST"  # what to pick in the step when a handler takes any method


class Tunnel:
    """A public URL to a running server (``server.expose()``). ``print(tunnel)`` or showing it in a
    cell gives the paste guide; ``tunnel.urls`` maps each handler path to its public URL.
    """

    def __init__(self, server: Any, provider: Any, url: str, generated_token: str | None,
                 on_close: Callable[[Any], None]) -> None:
        self.server = server
        self.provider = provider
        self.url = url
        self.is_open = True
        self.generated = generated_token is not None
        self._pending_reveal = generated_token is not None
        self._on_close = on_close

    @property
    def app(self) -> Any:
        return self.server.app

    @property
    def urls(self) -> dict[str, str]:
        """Each handler path and its public URL."""
        return {r.path: self.url + r.path for r in self._routes()}

    def close(self) -> None:
        """Close this tunnel (the same as ``server.unexpose()``)."""
        self._on_close(self.server)

    def session(self) -> Any:
        """A ``requests.Session`` that reaches the public URL (the fake provider's works offline)."""
        return self.provider.session()

    def auth_headers(self) -> dict[str, str]:
        """The headers a caller must send (Bearer, Basic, custom header). HMAC signs per request."""
        s = self.app.settings
        out: dict[str, str] = {}
        if s.auth_bearer:
            out["Authorization"] = f"Bearer {s.auth_bearer}"
        elif s.auth_basic:
            out["Authorization"] = "Basic " + base64.b64encode(s.auth_basic.encode()).decode()
        if s.auth_header and ":" in s.auth_header:
            name, value = s.auth_header.split(":", 1)
            out[name.strip()] = value.strip()
        return out

    @property
    def browser_url(self) -> str:
        """Where a person reaches the server from this browser when that is not its direct URL (behind
        JupyterHub / jupyter-server-proxy: ``/user/ada/proxy/5000``), else ``""``. Never for the bot."""
        proxied = str(getattr(self.server, "browser_url", "") or "")
        return proxied if proxied and proxied != getattr(self.server, "url", "") else ""

    # --- the paste guide -----------------------------------------------------------------------

    def _routes(self) -> list[Any]:
        return sorted(self.app.routes(), key=lambda r: r.path)

    def steps(self) -> list[dict[str, str]]:
        """One row per handler: method to pick, URL to paste, handler name, and a note."""
        rows = []
        for r in self._routes():
            method = "/".join(sorted(r.methods)) if r.methods else ANY_METHOD
            note = "" if r.methods else "any method works"
            if r.pattern is not None:
                note = "replace the <...> part (URL variables are unconfirmed in Chatlayer)"
            rows.append({"method": method, "url": self.url + r.path, "handler": r.name, "note": note})
        return rows

    def auth_lines(self, reveal: bool = False) -> list[tuple[str, str, str]]:
        """(kind, where in the API step, what to enter) for every access check that is on."""
        s = self.app.settings
        lines: list[tuple[str, str, str]] = []
        if s.auth_bearer:
            token = s.auth_bearer if reveal else MASK
            lines.append(("Bearer", "Authorization tab: Bearer token", f"Authorization: Bearer {token}"))
        if s.auth_basic:
            user = s.auth_basic.split(":", 1)[0]
            lines.append(("Basic", "Authorization tab: Basic auth",
                          f"username {user!r}, password: the one in the auth_basic setting"))
        if s.auth_header:
            name = s.auth_header.split(":", 1)[0].strip()
            lines.append(("header", "Headers: add a row, Type text",
                          f"Key {name!r}, Value: the one in the auth_header setting"))
        if s.hmac_secret:
            lines.append(("HMAC", "Settings > API > + Setting > HMAC, chosen in the step's settings",
                          f"signature header {s.hmac_header!r} ({s.hmac_algorithm}, {s.hmac_encoding}; "
                          "Chatlayer's scheme is undocumented: check app.log on the first real call)"))
        return lines

    def show_token_once(self) -> None:
        """Show the (newly generated) token in full the next time the guide is displayed."""
        self.generated = self._pending_reveal = True

    def _reveal(self) -> bool:
        reveal, self._pending_reveal = self._pending_reveal, False
        return reveal

    def _token_note(self, revealed: bool) -> str:
        if revealed:
            return ("The token was generated for you and is shown this once: copy it now "
                    "(paste the part after 'Bearer ' into the token field).")
        if self.generated:
            return "The generated token is masked now; it stays in app.settings.auth_bearer."
        return ""

    def guide(self, reveal: bool = False) -> str:
        """The paste guide as text (``reveal=True`` shows secrets in full)."""
        if not self.is_open:
            return f"The tunnel for {self.app.name!r} is closed: expose the server again."
        out = [f"Chatlayer API step for {self.app.name!r} (public URL via {self.provider.name}):"]
        out += [f"  {s['method']:<6} {s['url']}   ({s['handler']}{'; ' + s['note'] if s['note'] else ''})"
                for s in self.steps()] or ["  (no handlers yet: define one with @app.handler)"]
        for _, where, what in self.auth_lines(reveal):
            out += [f"{where}:", f"  {what}"]
        note = self._token_note(reveal and self.generated)
        if self.browser_url:
            out.append(f"From this browser (not for the bot): {self.browser_url}")
        return "\n".join(out + ([note] if note else []))

    def __str__(self) -> str:
        return self.guide(reveal=self._reveal())

    def _repr_html_(self) -> str:
        if not self.is_open:
            return str(macro("tunnel.html", "closed")(self.guide()))
        reveal = self._reveal()
        auth = [(where, what) for _, where, what in self.auth_lines(reveal)]
        note = self._token_note(reveal and self.generated)
        steps = self.steps()
        return str(macro("tunnel.html", "guide")(repr(self.app.name), self.provider.name, steps, auth, note,
                                                 self.browser_url))

    def __repr__(self) -> str:
        if not self.is_open:
            return f"<Tunnel {self.app.name!r} via {self.provider.name}: closed>"
        kinds = [kind for kind, _, _ in self.auth_lines()]
        n = len(self.app.routes())
        return (f"<Tunnel {self.app.name!r} via {self.provider.name}: {n} handler{'s' * (n != 1)}, "
                f"{' + '.join(kinds) or 'no'} auth>")
