"""The ngrok tunnel provider, through pyngrok (the optional extra ``ngrok``: ``pip install -e '.[ngrok]'``).

The first expose may download the ngrok agent; :func:`toolkit.tunnel.expose.expose` runs it with a deadline
and calls :meth:`NgrokProvider.abort` when it is missed, so a hung attempt leaves no process behind.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..errors import TunnelError
from ..log.masking import register_secret
from .expose import TunnelProvider

TOKEN_PAGE = "https://dashboard.ngrok.com/get-started/your-authtoken"
OFFLINE = "To rehearse offline meanwhile: server.expose(provider='fake')."


def import_pyngrok() -> Any:
    """The ``pyngrok.ngrok`` module, or a TunnelError that says how to install it."""
    try:
        from pyngrok import ngrok
    except ImportError:
        raise TunnelError(
            "pyngrok is not installed, so no ngrok tunnel can be opened.",
            hint="Install it in this environment: pip install pyngrok (from the toolkit checkout: pip "
            f"install -e '.[ngrok]'), then run the cell again. {OFFLINE}") from None
    return ngrok


@dataclass(eq=True)
class NgrokProvider(TunnelProvider):
    """Public ``https://...ngrok-free.app`` URLs from one ngrok agent per kernel.

    The authtoken comes from ``authtoken``, else ``NGROK_AUTHTOKEN``, else ngrok's config file
    (where ``ngrok config add-authtoken`` saves it). ``ngrok_path`` / ``config_path`` / ``region``
    are passed to pyngrok.
    """

    name: ClassVar[str] = "ngrok"
    authtoken: str | None = field(default=None, repr=False)
    config_path: str | None = None
    ngrok_path: str | None = None
    region: str | None = None
    _config: Any = field(default=None, compare=False, repr=False)
    _killed: list[Any] = field(default_factory=list, compare=False, repr=False)

    # --- fast checks, before any network -------------------------------------------------------

    def check(self) -> None:
        import_pyngrok()
        token = self.authtoken or os.environ.get("NGROK_AUTHTOKEN") or ""
        if len(token) >= 16:  # a real ngrok token: masked in any text a masker keeps, from now on
            register_secret(token)
        if not (self.authtoken or os.environ.get("NGROK_AUTHTOKEN") or self._token_in_file()):
            raise TunnelError(
                f"No ngrok authtoken: NGROK_AUTHTOKEN is not set and {self._config_file()} has none.",
                hint=f"Get yours from the ngrok dashboard (free sign-up): {TOKEN_PAGE}. Then set "
                "NGROK_AUTHTOKEN=<token> in the environment before starting Jupyter, or save it once "
                "with `ngrok config add-authtoken <token>` (from Python: from pyngrok import ngrok; "
                f"ngrok.set_auth_token('<token>')). {OFFLINE}")

    def _config_file(self) -> str:
        from pyngrok import conf

        return self.config_path or conf.get_config_path(conf.get_default())

    def _token_in_file(self) -> bool:
        import yaml

        try:
            with open(self._config_file()) as f:
                data = yaml.safe_load(f) or {}
        except (OSError, yaml.YAMLError):
            return False
        if not isinstance(data, dict):
            return False
        agent = data.get("agent")
        return bool(data.get("authtoken") or (isinstance(agent, dict) and agent.get("authtoken")))

    # --- the provider interface ----------------------------------------------------------------

    def _pyngrok_config(self, timeout_s: float) -> Any:
        if self._config is None:
            from pyngrok import conf

            self._config = conf.PyngrokConfig(
                ngrok_path=self.ngrok_path, config_path=self.config_path, auth_token=self.authtoken,
                region=self.region, startup_timeout=max(1, int(timeout_s)),
                request_timeout=min(float(timeout_s), 5.0))
        return self._config

    def open(self, local_url: str, timeout_s: float) -> str:
        ngrok = import_pyngrok()
        from pyngrok import installer

        installer._print_progress_enabled = False  # no printing from a worker thread
        cfg = self._pyngrok_config(timeout_s)
        try:
            tunnel = ngrok.connect(local_url.split("://", 1)[-1], "http", pyngrok_config=cfg)
        except Exception as exc:
            self._reap()
            raise explain(exc) from exc
        url = str(tunnel.public_url)
        return "https://" + url[len("http://"):] if url.startswith("http://") else url

    def close(self, public_url: str) -> None:
        if self._config is not None:
            from pyngrok import ngrok, process

            if process.is_process_running(self._config.ngrok_path):
                ngrok.disconnect(public_url, pyngrok_config=self._config)

    def shutdown(self) -> None:
        if self._config is not None:
            from pyngrok import ngrok

            ngrok.kill(pyngrok_config=self._config)

    def abort(self) -> None:
        """Kill a half-started agent without pyngrok's process lock: the stuck attempt holds it
        while it waits for the agent, so taking it here would hang."""
        if self._config is not None:
            from pyngrok import process

            running = process._current_processes.get(self._config.ngrok_path)
            if running is not None and running.proc.poll() is None:
                running.proc.kill()
                self._killed.append(running.proc)

    def _reap(self) -> None:
        """Wait for agents :meth:`abort` killed and close their pipes (no leaked file handles)."""
        while self._killed:
            proc = self._killed.pop()
            with contextlib.suppress(Exception):
                proc.wait(2)
            if proc.stdout is not None:
                proc.stdout.close()

    def __repr__(self) -> str:
        return "<NgrokProvider>"


def explain(exc: BaseException) -> TunnelError:
    """A pyngrok failure as a TunnelError that names the cause and the fix."""
    from pyngrok.exception import PyngrokNgrokError, PyngrokNgrokInstallError

    text = str(getattr(exc, "ngrok_error", None) or exc)
    if isinstance(exc, PyngrokNgrokInstallError):
        return TunnelError(
            f"Could not download the ngrok agent (no network?): {exc}",
            hint="Connect to the internet and try again (the first expose downloads the agent), or "
            f"install ngrok yourself and set PYNGROK_NGROK_PATH to it. {OFFLINE}")
    if "ERR_NGROK_105" in text or "ERR_NGROK_107" in text or "authtoken" in text.lower():
        return TunnelError(f"ngrok rejected the authtoken: {text}",
                           hint=f"Copy a fresh one from {TOKEN_PAGE} and set NGROK_AUTHTOKEN again.")
    if "ERR_NGROK_108" in text:
        return TunnelError(
            "Another ngrok agent already runs with this account (the free plan allows one).",
            hint="Stop the other one (another kernel or terminal: `pkill ngrok` there, or "
            "toolkit.tunnel.expose.close_all() in that kernel), then expose again.")
    kind = "start" if isinstance(exc, PyngrokNgrokError) else "open a tunnel"
    return TunnelError(f"ngrok could not {kind}: {text}",
                       hint=f"Check the internet connection and the message above, then try again. {OFFLINE}")
