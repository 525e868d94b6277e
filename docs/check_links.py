"""Check the internal links of the built site (offline; `sphinx -b linkcheck` needs the internet).

Usage: ``python docs/check_links.py docs/_build/html``. Every relative ``href`` and ``src`` must name a
file of the build, and a ``#fragment`` an ``id`` in that file. External links are counted, not fetched.
Root-relative links (``/proxy/5000/_toolkit/health``) are not part of the site: Sphinx writes none, and
they come from the notebooks' stored outputs, pointing at the Jupyter server that ran them (behind
jupyter-server-proxy); they are counted with the external ones. Exits 1 listing what is broken.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            linked = (name == "href" and tag in ("a", "link")) or (name == "src" and tag in ("img", "script"))
            if value and linked:
                self.links.append(value)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def broken_links(site: Path) -> tuple[list[str], int, int]:
    """(broken links as 'page: link', internal links checked, external links seen)."""
    pages = {p: _parse(p) for p in site.rglob("*.html")}
    broken, internal, external = [], 0, 0
    for path, page in pages.items():
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//"):
                external += parts.scheme in ("http", "https")
                continue
            if link.startswith("/"):           # a live server's path in a notebook output, not a page
                external += 1
                continue
            internal += 1
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{path.relative_to(site)}: {link} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{path.relative_to(site)}: {link} (no such anchor)")
    return broken, internal, external


def main(argv: list[str]) -> int:
    site = Path(argv[1] if len(argv) > 1 else "docs/_build/html").resolve()
    if not (site / "index.html").is_file():
        print(f"Error: no built site in {site}\n  Fix: build it first: make docs", file=sys.stderr)
        return 1
    broken, internal, external = broken_links(site)
    for line in broken:
        print(f"broken link: {line}", file=sys.stderr)
    pages = sum(1 for _ in site.rglob("*.html"))
    print(f"links: {internal} internal links in {pages} pages checked, {len(broken)} broken; "
          f"{external} external or live-server links not fetched (offline)")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
