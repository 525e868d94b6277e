"""The documentation cannot drift from the code: the reference pages are generated from it
(docs/_ext/toolkit_reference.py), and every public name, setting, command, error and message builder
has an entry there with words of its own; the docstring examples run; the version, the changelog and
pyproject agree; engineers' notes in docs/notes/ are never part of the build."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
import sys
import tomllib
from pathlib import Path

import toolkit
from toolkit.config import SETTINGS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
import toolkit_reference as ref  # noqa: E402


def _own_doc(obj: object) -> str:
    """The object's own docstring (a class's not inherited from its base)."""
    if inspect.isclass(obj):
        return (vars(obj).get("__doc__") or "").strip()
    return (getattr(obj, "__doc__", None) or "").strip()


def undocumented_public_names() -> list[str]:
    """Public names without a reference entry: not in the API page, or with no words of their own."""
    page = ref.api_page()
    missing = []
    for name in ref.public_names():
        obj = getattr(toolkit, name)
        entry = re.search(rf"^\.\. auto\w+:: {re.escape(name)}$", page, re.M)
        words = _own_doc(obj) if (inspect.isclass(obj) or callable(obj)) else ref.DATA_DOCS.get(name, "")
        if entry is None or not words:
            missing.append(name)
    return missing


def test_every_public_name_has_a_reference_entry():
    assert "App" in ref.public_names() and "__version__" not in ref.public_names()
    missing = undocumented_public_names()
    assert not missing, f"public names without a reference entry (a docstring of their own): {missing}"


def test_a_public_name_without_a_docstring_is_caught(monkeypatch):
    def undocumented_helper():  # planted: public, but says nothing
        return 1

    monkeypatch.setattr(toolkit, "undocumented_helper", undocumented_helper, raising=False)
    monkeypatch.setattr(toolkit, "__all__", [*toolkit.__all__, "undocumented_helper"])
    assert undocumented_public_names() == ["undocumented_helper"]


def test_every_setting_is_in_the_settings_reference():
    page = ref.settings_page()
    missing = [s.name for s in SETTINGS if not s.help.strip() or f"`{s.name}`" not in page
               or f"`TOOLKIT_{s.name.upper()}`" not in page]
    assert not missing, f"settings without a reference entry (or without help): {missing}"


def test_every_command_and_option_is_in_the_command_line_reference():
    page = ref.cli_page()
    assert {"demo", "settings", "serve", "export", "copy-table"} <= set(ref.commands())
    missing = [c for c in ref.commands() if f"## toolkit {c}\n" not in page]
    assert not missing, f"commands without a reference entry: {missing}"
    import argparse

    from toolkit.__main__ import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    helpless = [f"{name} {action.dest}" for name, parser in sub.choices.items() for action in parser._actions
                if not action.help and not isinstance(action, argparse._HelpAction)]
    no_summary = [c.dest for c in sub._choices_actions if not c.help]
    assert not helpless and not no_summary, f"options or commands with no help text: {helpless + no_summary}"
    assert "usage: toolkit demo" in page and "--data DIR" in page


def test_every_error_is_in_the_errors_reference_with_its_status():
    page = ref.errors_page()
    classes = ref.error_classes()
    assert toolkit.ToolkitError in classes and toolkit.BadRequest in classes
    missing = [c.__name__ for c in classes if not _own_doc(c)
               or not re.search(rf"^\| `{c.__name__}` \| {c.status} \| `{c.kind}` ", page, re.M)]
    assert not missing, f"errors without a reference entry (or a docstring): {missing}"
    assert "- `ToolkitError`\n  - `ConfigError`" in page  # the tree


def test_every_message_type_and_builder_is_in_the_messages_reference():
    from toolkit import messages

    page = ref.messages_page()
    assert {"text", "buttons", "carousel", "list_message", "location"} <= set(ref.message_builders())
    missing = [n for n in ref.message_builders() if not _own_doc(getattr(messages, n))
               or (f"{{py:func}}`toolkit.{n}`" not in page and f".. autofunction:: {n}\n" not in page)]
    missing += [t for t in messages.MESSAGE_TYPES if f"`{t}`" not in page]
    assert not missing, f"message builders or types without a reference entry: {missing}"


def _toolkit_modules() -> list[str]:
    names = ["toolkit"]
    for info in pkgutil.walk_packages(toolkit.__path__, "toolkit."):
        if not info.name.endswith("__main__"):
            names.append(info.name)
    return names


def test_the_docstring_examples_run():
    finder, failures, attempted = doctest.DocTestFinder(), [], 0
    for name in _toolkit_modules():
        module = importlib.import_module(name)
        for test in finder.find(module, name):
            if not test.examples:
                continue
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
            result = runner.run(test, out=lambda text, test=test: failures.append(f"{test.name}:\n{text}"))
            attempted += result.attempted
    assert attempted >= 20, f"only {attempted} docstring examples found: is the finder broken?"
    assert not failures, "docstring examples that fail:\n" + "\n".join(failures)


def test_version_pyproject_and_changelog_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    changelog = (ROOT / "CHANGELOG.md").read_text()
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", changelog, re.M)
    assert releases, "CHANGELOG.md has no release heading: ## [X.Y.Z] - YYYY-MM-DD"
    assert toolkit.__version__ == project["version"] == releases[0]
    assert changelog.index("## [Unreleased]") < changelog.index(f"## [{releases[0]}]")
    assert not (ROOT / "CHANGES.md").exists(), "CHANGELOG.md replaces CHANGES.md"


def test_notes_are_left_out_of_the_docs_build():
    conf = (ROOT / "docs" / "conf.py").read_text()
    patterns = re.search(r"exclude_patterns = (\[.*?\])", conf, re.S).group(1)
    assert '"notes"' in patterns and '"notes/**"' in patterns


def test_the_docs_pages_name_only_pages_that_exist():
    """Every {doc}`target` in the committed pages resolves to a page (the generated ones included)."""
    docs = ROOT / "docs"
    generated = {Path("reference") / Path(n).with_suffix("") for n in ref.GENERATED}
    notebooks = {Path("tutorials") / p.stem for p in (ROOT / "notebooks").glob("*.ipynb")}
    pages = {p.relative_to(docs).with_suffix("") for p in docs.rglob("*.md")
             if "_build" not in p.parts and "notes" not in p.parts} | generated | notebooks
    broken = []
    for page in docs.rglob("*.md"):
        if "_build" in page.parts or "notes" in page.parts:
            continue
        here = page.relative_to(docs).parent
        for target in re.findall(r"\{doc\}`(?:[^`<]*<)?([^`>]+)>?`", page.read_text()):
            resolved = Path(target.lstrip("/")) if target.startswith("/") else here / target
            normal = Path(*_normalise(resolved.parts))
            if normal not in pages:
                broken.append(f"{page.relative_to(docs)}: {target}")
    assert not broken, f"links to pages that do not exist: {broken}"


def _normalise(parts: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for part in parts:
        if part == "..":
            out.pop()
        elif part != ".":
            out.append(part)
    return out
