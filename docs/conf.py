"""Sphinx configuration of the documentation site: ``make docs`` builds it into docs/_build/html.

MyST for the pages, myst-nb for the notebooks (their stored outputs, never executed), furo for the
look, and the local extension ``_ext/toolkit_reference`` that generates the reference from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(DOCS.parent))

import toolkit  # noqa: E402

project = "chatlayer-toolkit"
author = "The chatlayer-toolkit authors"
copyright = "2025-2026, " + author
version = release = toolkit.__version__

extensions = [
    "myst_nb",  # Markdown (MyST) and notebooks
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # "Args:", "Raises:" sections in docstrings
    "toolkit_reference",
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
# docs/notes/ holds engineers' notes, merged into the pages by hand: never part of the build.
exclude_patterns = ["_build", "notes", "notes/**", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "off"  # the notebooks' stored outputs, as nbval checks them
nb_merge_streams = True
nb_render_error_lexer = "text"  # toolkit errors print as message and fix, not as an IPython traceback


def setup(app):  # noqa: ANN001, ANN201
    # Flow diagrams are Mermaid text in the notebooks' stored outputs: shown as text (no JavaScript).
    from pygments.lexers.special import TextLexer
    from sphinx.highlighting import lexers

    lexers["mermaid"] = TextLexer()

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"undoc-members": False}
napoleon_google_docstring = True
napoleon_numpy_docstring = False

html_theme = "furo"
html_title = f"chatlayer-toolkit {release}"
html_static_path = ["_static"]
html_show_sourcelink = False
