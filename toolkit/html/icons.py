"""The icons toolkit's HTML uses, each a glyph and the word it stands for.

Every glyph is one the DejaVu fonts hold (the fonts a plain Linux desktop has, with no emoji font), so
it draws everywhere; the word goes into ``aria-label`` and ``title`` (read aloud, shown on hover) by
the ``icon`` macro of ``templates/icons.html``. Plain-text output (reprs, transcripts) keeps its own
characters; this table is for HTML only.
"""

from __future__ import annotations

ICONS: dict[str, tuple[str, str]] = {
    "link": ("↗", "link"),
    "call": ("☎", "call"),
    "location": ("⚑", "location"),
    "file": ("⇩", "file"),
    "chat": ("✉", "chat"),
    "passed": ("✔", "passed"),
    "failed": ("✘", "failed"),
    "covered": ("✓", "covered"),
    "missed": ("✗", "missed"),
    "check_ok": ("✓", "passed"),
    "check_failed": ("✗", "failed"),
    "differs": ("✗", "differs"),
    "same": ("✓", "same"),
    "warning": ("⚠", "warning"),
    "paused": ("❚❚", "paused"),
}
"""name -> (glyph, text label)."""

BUTTON_ICONS = {"web_url": "link", "phone_number": "call", "location": "location"}
"""A button's or quick reply's ``type`` -> the icon its chip shows."""
