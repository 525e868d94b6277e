"""What a calibration shows: the rows to paste into the API step, and the report of what Chatlayer
sent (method, Content-Type, headers with secrets masked, each body value's JSON type, the HMAC scheme
that verifies, the timeout and retries). Plain data and HTML strings; no widgets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..html.templates import macro
from ..log.masking import Masker
from .schemes import (
    Scheme,
    describe_tried,
    find_scheme,
    signature_headers,
    timestamp_headers,
    unix_seconds,
    verdict,
)

if TYPE_CHECKING:
    from .calibrate import Calibration, Probe

# The rows to configure: (tab, key, type, value, why). The probe's first answer stores a number and an
# object under "calibration", so the next call shows whether variables keep their JSON type.
ROWS = (
    ("Query", "probe", "text", "1", "shows how the query string arrives"),
    ("Headers", "X-Calibration", "text", "yes", "shows custom header rows"),
    ("Body", "text", "text", "42", "a text row that looks like a number"),
    ("Body", "number", "variable", "calibration.number", "a number variable (42 after the first call)"),
    ("Body", "object", "variable", "calibration.object", "an object variable (after the first call)"),
    ("Body", "block", "dialogstate", "(this block)", "a block id; the probe sends the bot back here once"),
    ("Body", "last", "variable", "calibration.answered_after_s", "the slow probe's last accepted delay"),
    ("Body", "said", "variable", "internal.messageContent", "what the user typed: a new call, not a retry"),
)
SLOW_ONLY = ("last", "said")


def _ago(seconds: float) -> str:
    return f"{abs(seconds):.1f} s {'before' if seconds >= 0 else 'after'} arrival"


def json_type(value: Any) -> str:
    """The JSON type name of a parsed value."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    for kind, name in ((str, "string"), (Mapping, "object"), (list, "array")):
        if isinstance(value, kind):
            return name
    return "null"


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    return str(macro("chatlayer.html", "table")(head, rows))


# --- what to paste -----------------------------------------------------------------------------------


def _auth_lines(cal: Calibration) -> list[str]:
    s = cal.app.settings
    lines = []
    if s.auth_bearer:
        lines.append("Authorization tab: Bearer token = the token in the auth_bearer setting.")
    elif s.auth_basic:
        lines.append("Authorization tab: Basic auth = the user and password in the auth_basic setting.")
    if s.auth_header:
        lines.append(f"Headers tab: a row {s.auth_header.split(':')[0].strip()!r} (text) = the value in "
                     "auth_header.")
    if cal._secret:
        lines.append("Settings field: your HMAC API setting (Settings -> API), made with the secret you "
                     "passed to calibrate(); the report finds how Chatlayer signs with it.")
    return lines


def _rows(cal: Calibration) -> list[tuple[str, str, str, str, str]]:
    return [r for r in ROWS if cal.slow or r[1] not in SLOW_ONLY]


def paste_text(cal: Calibration) -> str:
    """The paste guide as plain text (what the HTML display shows)."""
    url, note = cal.url()
    lines = [f"API step: method POST, URL {url or '(not served yet)'}"] + ([f"  {note}"] if note else [])
    lines += [f"  {tab:<8} {key:<14} {kind:<12} {value}" for tab, key, kind, value, _ in _rows(cal)]
    lines += [f"  {line}" for line in _auth_lines(cal)]
    then = ("Trigger the step: each call waits longer before answering (" +
            ", ".join(f"{d:g}" for d in cal.delays) + " s); on success the probe sends the bot back to "
            "this block, so calls follow one another; after a time-out trigger it again with a new message "
            "(an identical request is taken for a retry).") if cal.slow else (
            "Trigger the step once (the probe sends the bot back to this block for a second call).")
    return "\n".join([*lines, then, "Then run calibration.report()."])


def paste_html(cal: Calibration) -> str:
    """The paste guide as HTML: URL, rows, access settings, what to do next."""
    url, note = cal.url()
    return str(macro("chatlayer.html", "paste")(url or "(not served yet)", note, _rows(cal), _auth_lines(cal),
                                                paste_text(cal).splitlines()[-2]))


# --- timing (slow probe) -------------------------------------------------------------------------------


@dataclass
class Timing:
    """The slow probe's findings: per call its delay and fate, and the estimated timeout."""

    calls: list[dict[str, Any]]  # {n, delay, accepted (True/False/None), retries, retry_after_s}
    timeout_s: float | None
    low_s: float | None  # the longest delay Chatlayer accepted
    high_s: float | None  # the shortest it gave up on
    retries: int  # most retries seen for one call

    def text(self) -> str:
        if self.timeout_s is None:
            return ("Timeout: not measured yet (no call timed out; trigger the step again for longer "
                    "delays).")
        how = (f"retried after {min(c['retry_after_s'] for c in self.calls if c['retry_after_s']):.1f} s"
               if self.retries else f"accepted {self.low_s or 0:g} s, gave up on {self.high_s:g} s")
        again = f"retries {self.retries} time{'' if self.retries == 1 else 's'}" if self.retries else \
            "no retry seen"
        return f"Timeout: about {self.timeout_s:.1f} s ({how}); {again}."


def _last(probe: Probe) -> float | None:
    body = probe.body if isinstance(probe.body, dict) else {}
    try:
        return float(body.get("last"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def timing_of(probes: Sequence[Probe]) -> Timing:
    """Which delays Chatlayer accepted (the next call carries the last accepted delay in ``last``),
    which it gave up on, and how soon identical requests (retries) came."""
    originals = [p for p in probes if p.retry_of is None]
    calls: list[dict[str, Any]] = []
    for i, o in enumerate(originals):
        again = [p for p in probes if p.retry_of == o.n]
        later = [_last(p) for p in originals[i + 1:]]
        accepted = None if not later else any(v is not None and abs(v - o.delay) < 1e-6 for v in later)
        if again:
            accepted = False
        calls.append({"n": o.n, "delay": o.delay, "accepted": accepted, "retries": len(again),
                      "retry_after_s": round(again[0].arrived - o.arrived, 3) if again else None})
    took = [float(c["delay"]) for c in calls if c["accepted"]]
    refused = [float(c["delay"]) for c in calls if c["accepted"] is False]
    low, high = (max(took) if took else None), (min(refused) if refused else None)
    gaps = [float(c["retry_after_s"]) for c in calls if c["retry_after_s"] is not None]
    timeout = min(gaps) if gaps else (None if high is None else ((low or 0.0) + high) / 2)
    return Timing(calls, timeout, low, high, max([int(c["retries"]) for c in calls], default=0))


# --- the report ------------------------------------------------------------------------------------------


@dataclass
class CalibrationReport:
    """What Chatlayer sent in one probe call, and what follows from it."""

    probe: Probe
    probes: Sequence[Probe] = field(repr=False)
    secret: str | None = field(repr=False)
    settings: Mapping[str, Any] = field(repr=False)
    timing: Timing | None = None

    def __post_init__(self) -> None:
        p = self.probe
        self.method = p.method
        self.content_type = next((v for k, v in p.headers.items() if k.lower() == "content-type"), None)
        self.scheme: Scheme | None = None
        self.tried: list[Scheme] = []
        if self.secret:
            self.scheme, self.tried = find_scheme(p.raw, p.headers, self.secret, self.settings)
        self.skew_s = (p.wall - unix_seconds(p.headers[self.scheme.timestamp_header])
                       if self.scheme and self.scheme.timestamp_header else None)

    @property
    def headers(self) -> dict[str, str]:
        """Every header, secrets and signatures masked (a digest shows only its length)."""
        masker = Masker.from_settings(self.settings)
        digests, stamps = signature_headers(self.probe.headers), timestamp_headers(self.probe.headers)
        out = {}
        for k, v in self.probe.headers.items():
            if k in digests:
                enc, n = next(iter(digests[k].items()))
                out[k] = f"*** ({enc}, {n} bytes)"
            elif k in stamps:
                out[k] = f"a Unix time, {_ago(self.probe.wall - unix_seconds(v))}"
            else:
                out[k] = "***" if masker.sensitive(k) else v
        return out

    @property
    def body(self) -> list[tuple[str, Any, str]]:
        """``(key, value, JSON type)`` for each body member (sensitive values masked)."""
        body = self.probe.body
        if not isinstance(body, dict):
            return [("(body)", body, "none" if body is None else json_type(body))]
        masker = Masker.from_settings(self.settings)
        return [(k, "***" if masker.sensitive(k) else v, json_type(v)) for k, v in body.items()]

    @property
    def keeps_types(self) -> bool | None:
        """Whether variable rows keep their JSON type (from the latest call carrying ``number``)."""
        for probe in reversed(self.probes):
            body = probe.body if isinstance(probe.body, dict) else {}
            for key, typed in (("number", (int, float)), ("object", (dict, list))):
                value = body.get(key)
                if isinstance(value, typed) and not isinstance(value, bool):
                    return True
                if isinstance(value, str) and value.strip() and not value.startswith("{calibration"):
                    return False
        return None

    @property
    def suggested(self) -> dict[str, Any]:
        """The settings that follow from this call (and the slow probe's timing)."""
        out: dict[str, Any] = {}
        if self.scheme and self.scheme.checkable:
            out.update(self.scheme.settings())
        out["emulator_content_type"] = self.content_type is not None
        if self.keeps_types is not None:
            out["emulator_keep_types"] = self.keeps_types
        if self.timing and self.timing.timeout_s is not None:
            out["emulator_timeout_s"] = round(self.timing.timeout_s, 1)
            out["emulator_retries"] = self.timing.retries
        return out

    def hmac_text(self) -> str:
        if not self.secret:
            return "HMAC: not checked (call toolkit.calibrate(app, secret=...) with your HMAC setting's key)."
        if self.scheme:
            skew = f"; its timestamp is {_ago(self.skew_s)}" if self.skew_s is not None else ""
            note = "" if self.scheme.checkable else (
                " The app's hmac_* settings cannot check this scheme, so apply() leaves HMAC off: verify it "
                "in a handler with toolkit.chatlayer.schemes.verifies(scheme, request.raw, request.headers, "
                "secret).")
            return f"HMAC: verifies as {self.scheme}{skew}.{note}"
        return (f"HMAC: no scheme verified: {verdict(self.tried)}. Tried: "
                + " | ".join(describe_tried(self.tried, self.probe.headers)))

    def lines(self) -> list[str]:
        """The whole report as text lines."""
        p = self.probe
        out = [f"Call #{p.n}: {p.method} {p.path}" + (f" (a retry of #{p.retry_of})" if p.retry_of else ""),
               f"Content-Type: {self.content_type or 'none'}",
               "Headers: " + ", ".join(f"{k}: {v}" for k, v in self.headers.items()),
               "Query: " + (", ".join(f"{k}={v}" for k, v in p.query.items()) or "none"),
               "Body: " + ", ".join(f"{k} = {v!r} ({t})" for k, v, t in self.body),
               self.hmac_text()]
        if p.rejected:
            out.append(f"Your current access settings would refuse it: {p.rejected}")
        if self.timing:
            out.append(self.timing.text())
        out.append(f"Suggested settings: {self.suggested}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        scheme = f"HMAC {self.scheme}" if self.scheme else (
            "no HMAC match" if self.secret else "HMAC not checked")
        return (f"<CalibrationReport call #{self.probe.n}: {self.method}, Content-Type "
                f"{self.content_type or 'none'}, {len(self.body)} body values; {scheme}>")

    def _repr_html_(self) -> str:
        p = self.probe
        rest = [self.hmac_text()]
        rest += [f"Refused by your current settings: {p.rejected}"] if p.rejected else []
        rest += [self.timing.text()] if self.timing else []
        return str(macro("chatlayer.html", "calibration_report")(
            p, self.content_type or "none", list(self.headers.items()),
            [(k, repr(v), t) for k, v, t in self.body], rest,
            [(k, repr(v)) for k, v in self.suggested.items()]))
