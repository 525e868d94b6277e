"""Which URLs may become a link or an image: ``http``, ``https``, ``mailto``, ``tel`` and relative
ones. Anything else (``javascript:``, ``data:``, ``vbscript:``, ``file:`` ...) is shown as text.

A browser drops leading and trailing spaces and control characters from a URL, removes tabs and line
breaks anywhere in it and reads the scheme case-insensitively, so " JaVa\\tScRiPt:alert(1)" runs script:
the check does the same before it looks at the scheme. A colon before the first ``/``, ``?`` or ``#``
makes the part before it a scheme, valid or not; only the four schemes above pass.
"""

from __future__ import annotations

import re
from typing import Any

ALLOWED_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_INSIDE = re.compile(r"[\t\n\r]")  # removed anywhere by the URL parser
_EDGES = "".join(chr(c) for c in range(0x21))  # C0 controls and space, stripped at both ends


def scheme_of(url: str) -> str | None:
    """The scheme a browser would read in ``url``, lower-cased, or ``None`` for a relative URL.

    Example: ``scheme_of(" JaVaScRiPt:alert(1)") == "javascript"``; ``scheme_of("/a:b") is None``.
    """
    cleaned = _INSIDE.sub("", url).strip(_EDGES)
    end = len(cleaned)
    for stop in "/?#":
        found = cleaned.find(stop)
        if found != -1:
            end = min(end, found)
    head, colon, _rest = cleaned[:end].partition(":")
    return head.lower() if colon else None


def safe_url(url: Any) -> str:
    """``url`` as a string if it may be an ``href`` or ``src`` (http, https, mailto, tel or relative),
    else ``""``: the Jinja filter the templates put every link and image source through.

    Example: ``safe_url("https://e/a.png") == "https://e/a.png"``; ``safe_url("javascript:x") == ""``.
    """
    if url is None:
        return ""
    text = str(url)
    scheme = scheme_of(text)
    return text if scheme is None or scheme in ALLOWED_SCHEMES else ""
