"""One table of settings: name, default, help. Environment variables ``TOOLKIT_<NAME>`` override
the defaults; keyword arguments (``App(name, **settings)``, ``app.serve(**settings)``) override both.

Every setting is documented in the README (``tests/test_docs.py`` checks it).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .errors import ConfigError, UnknownSetting


@dataclass(frozen=True)
class Setting:
    """One row of the settings table."""

    name: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    # --- core: replies ---
    Setting("redirect_form", "action",
            "Where the redirect goes in replies: 'action' (action.nextDialogstate, what every real "
            "backend and worked example sends), 'both' (also a top-level nextDialogstate) or 'top'.",
            choices=("both", "action", "top")),
    Setting("strict_replies", False,
            "Refuse replies outside the contract that real backends send and Chatlayer seems to accept: "
            "\"session\": null, a session without namespace, a text line with \"text\": null, a button "
            "of type 'call', an empty 200 body, a redirect to a block name. Off (default): they are "
            "applied the most likely way and each is a warning (the log entry's, the emulator's error "
            "log) naming the fix."),
    Setting("max_reply_bytes", 65536, "Largest reply body, in bytes, a handler may return."),
    Setting("debug", False, "Include the traceback in error responses (never turn on in a demo)."),
    Setting("expose_errors", False,
            "Let a handler's exception text reach the caller in a 500 answer's message (masked). "
            "Off: the caller reads only the exception's type; the text stays in app.log."),
    # --- server ---
    Setting("max_body_bytes", 1048576, "Largest request body accepted; larger gets 413."),
    Setting("max_body_depth", 64,
            "Deepest nesting of objects and arrays in a request body (1 to 128); deeper gets 400 "
            "before it is parsed, and the log keeps no value nested deeper."),
    Setting("deadline_s", 5.0,
            "Calls slower than this are flagged 'slow' and warned about once per handler. "
            "Chatlayer advises staying under 20 s."),
    Setting("log_size", 500, "How many exchanges app.log keeps (a ring buffer); 0 turns the log off."),
    Setting("log_body_bytes", 65536, "Request/response bodies in the log are cut at this size."),
    Setting("log_refused_bytes", 4096,
            "A refused request (400, 401, 403, 413) keeps at most this many bytes of its body and of "
            "its headers in the log, marked as cut: a flood of large refused requests cannot fill memory."),
    Setting("sensitive_keys", "password,token,secret,apikey,api_key",
            "Comma-separated keys (any case, matched as parts of names) whose values are masked "
            "wherever a request is kept: query, headers, body, error messages, log, fixtures."),
    Setting("retry_window_s", 3.0,
            "An identical request within this many seconds is flagged as a probable platform retry."),
    # --- embedded server (app.serve(): waitress) ---
    Setting("server_threads", 4,
            "Threads that run handlers in app.serve(): a slow handler holds one, so other callers "
            "keep being answered by the rest (more threads contend for Python's one interpreter "
            "lock: slower under load)."),
    Setting("server_connection_limit", 1000,
            "Most connections app.serve() keeps open at once; more wait in the listen queue. "
            "Idle and slow clients cost no thread, so many of them cannot starve the handlers."),
    Setting("server_channel_timeout_s", 30.0,
            "A connection of app.serve() idle this long between requests is closed (a client "
            "behind a tunnel that stops talking does not hold it open)."),
    Setting("capture_outbound", True,
            "Record the HTTP calls handlers make with requests in their log entry. Creating the "
            "first App wraps requests.Session.send for the process (with a notice); off: not wrapped."),
    # --- access control ---
    Setting("auth_bearer", "", "If set, require 'Authorization: Bearer <this token>'.", secret=True),
    Setting("auth_basic", "", "If set ('user:password'), require HTTP Basic auth.", secret=True),
    Setting("auth_header", "",
            "If set ('Header-Name: value'), require this custom header.", secret=True),
    Setting("hmac_secret", "", "If set, require an HMAC signature made with this key.", secret=True),
    Setting("hmac_header", "X-Signature",
            "Header holding the HMAC signature (assumption: Chatlayer's scheme is undocumented)."),
    Setting("hmac_algorithm", "sha256", "HMAC hash.", choices=("sha1", "sha256", "sha512")),
    Setting("hmac_encoding", "hex", "HMAC digest encoding.", choices=("hex", "base64")),
    Setting("hmac_signed", "body",
            "What is signed: 'body', 'timestamp+body' (timestamp header + '.' + body) or "
            "'timestampbody' (timestamp header and body joined without a separator).",
            choices=("body", "timestamp+body", "timestampbody")),
    Setting("hmac_timestamp_header", "X-Timestamp", "Header with the Unix timestamp (timestamp+body)."),
    Setting("hmac_window_s", 300.0, "Largest accepted age of a signed timestamp, in seconds."),
    # --- tables and the log on a database ---
    Setting("tables_url", "",
            "If set (sqlite:///data/shop.db, postgresql://user:pw@host/db), every Table('.../leads.csv', "
            "key=...) is served from table 'leads' in that database, created from the CSV the first time.",
            secret=True),
    Setting("log_url", "",
            "If set, every worker records its exchanges (masked, cut) into this SQLite or PostgreSQL "
            "database; Log.attach(url) shows them in a notebook.", secret=True),
    Setting("log_retention", 100000, "Most exchanges kept in the log database (older ones are removed)."),
    # --- live log view ---
    Setting("view_rows", 50, "Rows shown by the log view (the rest are counted)."),
    Setting("view_max_fps", 10.0, "Most redraws per second of the log view."),
    # --- replays and fixtures ---
    Setting("fixtures_dir", "fixtures", "Folder of the JSON fixtures the log view saves and re-checks read."),
    Setting("recheck_on_redefine", "all",
            "When a cell redefines a handler, replay its logged requests and fixtures ('all'), only its "
            "fixtures ('fixtures') or nothing ('off'), and show what changed under the cell.",
            choices=("all", "fixtures", "off")),
    Setting("progress", "auto",
            "Progress bars in replay-all and fixture checks: 'auto' (from 20 requests), 'always', 'never'.",
            choices=("auto", "always", "never")),
    # --- emulator ---
    Setting("missing_variable", "empty",
            "How a {missing} template variable renders: 'empty', 'keep' (left as written) or 'error'.",
            choices=("empty", "keep", "error")),
    Setting("emulator_timeout_s", 20.0,
            "Emulated API step timeout, in seconds (unpublished; measure it with toolkit.calibrate(app, "
            "slow=True))."),
    Setting("emulator_retries", 0,
            "How many times the emulated API step sends the identical request again after a timeout "
            "(unpublished whether Chatlayer retries; calibrate to find out)."),
    Setting("emulator_body_methods", "POST,PUT,PATCH,DELETE",
            "Methods whose Body rows the emulated API step sends (sources disagree; body rows of "
            "other methods are left out, with a note)."),
    Setting("emulator_keep_types", True,
            "Body rows of Type variable keep their JSON type (500 stays a number); off: sent as text."),
    Setting("emulator_content_type", True,
            "The emulated API step adds 'Content-Type: application/json' to a body unless a Header "
            "row sets one (undocumented whether Chatlayer does)."),
    Setting("emulator_interpolate", "url",
            "Where the emulator fills {variables} in an API step: 'url', 'all' (URL, text rows and "
            "auth) or 'none' (undocumented in Chatlayer).",
            choices=("none", "url", "all")),
    Setting("emulator_nest_keys", False,
            "Body keys with dots ('order.id') build nested objects; off: sent as written."),
    Setting("emulator_empty_reply", "ok",
            "A 2xx answer with an empty body: 'ok' (treated as {}: nothing to apply, as real backends "
            "that answer an empty 200 work) or 'error' (an error-log entry; strict_replies=True also "
            "makes it one).",
            choices=("error", "ok")),
    Setting("emulator_location_variable", "location",
            "Session variable a shared location is stored in, as {lat, lon}."),
    # --- live bot (toolkit.LiveBot: the real bot through Chatlayer's webhook channel) ---
    Setting("livebot_endpoint", "v1",
            "Where user messages go: 'v1' (POST /v1/channels/webhook/{channelId}/messages, the current "
            "API) or 'legacy' (POST /api/webhookMessage/{botId}, Chatlayer's deprecated webhook API: "
            "texts only, a click goes as its payload text). 'botium' is an old name of 'legacy'.",
            choices=("v1", "legacy", "botium")),
    Setting("livebot_region", "eu", "Chatlayer region of the bot: eu, us, asia or staging.",
            choices=("eu", "us", "asia", "staging")),
    Setting("livebot_path", "/chatlayer-webhook",
            "Path of the receiver route for the bot's answers (the channel's Webhook URL ends with it)."),
    Setting("livebot_quiet_s", 1.0, "A live turn is complete when no new bot message arrived for this long."),
    Setting("livebot_deadline_s", 20.0,
            "A live turn fails when its answer is not complete after this many seconds."),
    # --- tunnel ---
    Setting("tunnel_timeout_s", 15.0, "Longest wait for a tunnel to open before failing."),
    # --- behind JupyterHub / jupyter-server-proxy ---
    Setting("proxy_url_prefix", "auto",
            "Where a person's browser reaches a server of this kernel, for the URLs shown to humans "
            "(server display, log view link, the guide's 'from this browser' row; server.url and tunnel "
            "URLs stay direct): 'auto' ($JUPYTERHUB_SERVICE_PREFIX + 'proxy/{port}', else '/proxy/{port}' "
            "in a kernel with jupyter-server-proxy, else direct), 'off', or a prefix such as "
            "'https://hub.example.org/user/ada/proxy' ('/{port}' is appended unless it holds {port})."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def default(name: str) -> Any:
    """The default of setting ``name`` (the one place it is defined)."""
    return _BY_NAME[name].default
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


SETTINGS_HINT = "`python -m toolkit settings` lists every setting with its help (so do the docs)."


def _did_you_mean(name: str, n: int) -> str:
    """`` Did you mean 'x'?`` (up to ``n`` close settings) or ``""``."""
    close = difflib.get_close_matches(name, list(_BY_NAME), n=n)
    return f" Did you mean {', '.join(map(repr, close)) if n == 1 else ', '.join(close)}?" if close else ""


def _unknown(name: str) -> ConfigError:
    return ConfigError(f"Unknown setting {name!r}.{_did_you_mean(name, 3)}", hint=SETTINGS_HINT)


def _no_setting(name: str) -> UnknownSetting:
    return UnknownSetting(f"No setting {name!r}.{_did_you_mean(name, 1)}", hint=SETTINGS_HINT)


def _coerce(setting: Setting, value: Any, source: str) -> Any:
    expected = type(setting.default)
    try:
        if expected is bool and isinstance(value, str):
            low = value.strip().lower()
            if low not in _TRUE | _FALSE:
                raise ValueError(value)
            value = low in _TRUE
        elif expected is float and isinstance(value, int | str) and not isinstance(value, bool):
            value = float(value)
        elif expected is int and isinstance(value, str):
            value = int(value)
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise TypeError(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"Setting {setting.name!r} from {source} must be {expected.__name__}, "
            f"got {'***' if setting.secret else repr(value)}.",
            hint=f"{setting.help} Default: {setting.default!r}.",
        ) from None
    if setting.choices and value not in setting.choices:
        raise ConfigError(
            f"Setting {setting.name!r} from {source} must be one of "
            f"{', '.join(setting.choices)}; got {value!r}.",
            hint=setting.help,
        )
    return value


class Settings(Mapping[str, Any]):
    """Resolved settings: defaults, then ``TOOLKIT_*`` environment variables, then keywords.

    Every setting of :data:`SETTINGS` is a typed attribute (``settings.deadline_s`` is a float), so a
    type checker catches a misspelt one; at run time a misspelt one raises :class:`UnknownSetting`
    (an ``AttributeError``) naming the closest setting. ``tests/test_config.py`` checks that the
    attributes below and the table agree.

    >>> Settings(deadline_s=2).deadline_s
    2.0
    >>> Settings().dedline_s
    Traceback (most recent call last):
    ...
    toolkit.errors.UnknownSetting: No setting 'dedline_s'. Did you mean 'deadline_s'?
      Fix: `python -m toolkit settings` lists every setting with its help (so do the docs).
    """

    # One typed attribute per row of SETTINGS, in its order (the values are set in __init__).
    redirect_form: Literal["both", "action", "top"]
    strict_replies: bool
    max_reply_bytes: int
    debug: bool
    expose_errors: bool
    max_body_bytes: int
    max_body_depth: int
    deadline_s: float
    log_size: int
    log_body_bytes: int
    log_refused_bytes: int
    sensitive_keys: str
    retry_window_s: float
    server_threads: int
    server_connection_limit: int
    server_channel_timeout_s: float
    capture_outbound: bool
    auth_bearer: str
    auth_basic: str
    auth_header: str
    hmac_secret: str
    hmac_header: str
    hmac_algorithm: Literal["sha1", "sha256", "sha512"]
    hmac_encoding: Literal["hex", "base64"]
    hmac_signed: Literal["body", "timestamp+body", "timestampbody"]
    hmac_timestamp_header: str
    hmac_window_s: float
    tables_url: str
    log_url: str
    log_retention: int
    view_rows: int
    view_max_fps: float
    fixtures_dir: str
    recheck_on_redefine: Literal["all", "fixtures", "off"]
    progress: Literal["auto", "always", "never"]
    missing_variable: Literal["empty", "keep", "error"]
    emulator_timeout_s: float
    emulator_retries: int
    emulator_body_methods: str
    emulator_keep_types: bool
    emulator_content_type: bool
    emulator_interpolate: Literal["none", "url", "all"]
    emulator_nest_keys: bool
    emulator_empty_reply: Literal["error", "ok"]
    emulator_location_variable: str
    livebot_endpoint: Literal["v1", "legacy", "botium"]
    livebot_region: Literal["eu", "us", "asia", "staging"]
    livebot_path: str
    livebot_quiet_s: float
    livebot_deadline_s: float
    tunnel_timeout_s: float
    proxy_url_prefix: str

    _values: dict[str, Any]

    def __init__(self, _base: Mapping[str, Any] | None = None, **overrides: Any) -> None:
        values: dict[str, Any] = {}
        if _base is None:
            for s in SETTINGS:
                env = os.environ.get(f"TOOLKIT_{s.name.upper()}")
                values[s.name] = s.default if env is None else _coerce(s, env, f"TOOLKIT_{s.name.upper()}")
        else:
            values.update(_base)
        for name, value in overrides.items():
            if name not in _BY_NAME:
                raise _unknown(name)
            values[name] = _coerce(_BY_NAME[name], value, "keyword arguments")
        self._values = values
        self.__dict__.update(values)  # settings.name is a plain attribute read (on every request)

    def replace(self, **overrides: Any) -> Settings:
        """A copy with some settings changed."""
        return Settings(self._values, **overrides)

    if not TYPE_CHECKING:  # hidden from type checkers: a misspelt setting stays a type error

        def __getattr__(self, name: str) -> Any:  # only called for names that are not settings
            if name.startswith("__"):  # copy, pickle and the like probe for optional dunders
                raise AttributeError(name)
            raise _no_setting(name)

    def __getitem__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise _unknown(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def changed(self) -> dict[str, Any]:
        """Settings that differ from their defaults (secrets masked)."""
        return {
            n: ("***" if _BY_NAME[n].secret else v)
            for n, v in self._values.items()
            if v != _BY_NAME[n].default
        }

    def __repr__(self) -> str:
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in self.changed().items())})"
