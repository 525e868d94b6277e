"""The README works as written: every file it names exists, every command it shows runs (or is skipped
here for a stated reason), the command line's help is plain text, and tutorial images load offline.

Commands come from ```bash blocks and from inline code that starts with a command word. How each runs:

- ``make TARGET``: ``make -n TARGET`` (a dry run: the target exists and expands).
- ``python -m toolkit ...`` / ``toolkit ...``: parsed by the real argparse parser; ``--help``,
  ``settings``, ``demo --once``, ``export`` (into a temporary folder) and ``serve`` (on port 0, until it
  answers its health check) run for real; a bare ``toolkit serve`` mention runs ``serve --help``.

Skipped, with the reason in SKIPPED: installers (pip, conda, apt-get: network and system changes;
``make -n install`` covers the install line and the extras are checked against pyproject), pytest
(the suite itself, or the reader's own notebook), ``jupyter lab`` (a server that runs until stopped;
``make -n lab`` covers it), gunicorn on the exported module and ``serve --workers 4`` (several worker
processes; tests/test_production.py serves with gunicorn), ngrok (needs an account), and commands
with placeholders (``PATH``, ``NOTEBOOK``, ``<token>``).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import nbformat
import pytest
import requests

from toolkit.__main__ import build_parser, settings_table

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
COMMAND = re.compile(r"^(make|python3?|toolkit|pip|conda|pytest|jupyter|gunicorn|ngrok|apt-get)\s")
PLACEHOLDER = re.compile(r"<[^>]+>|\b(PATH|NOTEBOOK|COMMAND|NAME|N)\b")
SKIPPED = {
    "pip": "installs packages (network); `make -n install` covers the install line, extras are checked",
    "conda": "conda is not part of the test environment; environment.yml is checked against pyproject",
    "apt-get": "installs system packages (.ci/run does it for CI)",
    "pytest": "runs the test suite itself, or the reader's own notebook",
    "jupyter": "starts JupyterLab, which runs until stopped; `make -n lab` covers the command",
    "gunicorn": "serves the exported module with worker processes until stopped (tests/test_production.py)",
    "ngrok": "needs an ngrok account and the internet",
    "workers": "starts 4 gunicorn worker processes (tests/test_production.py covers gunicorn)",
    "placeholder": "a pattern with placeholders, not a command to run as written",
}
PATH_TOKEN = re.compile(r"^(\.\./)*[\w.-]+(/[\w.-]+)*(\.(ipynb|py|csv|ya?ml|md|cfg|toml|json)|/)$")
# Files the README names that a command writes (not files of the repository).
WRITTEN = {"app.py": "written by `toolkit export ... -o app.py`", "my.ipynb": "the reader's own notebook"}


def _blocks(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(README) if lang == language]


def _inline_spans() -> list[str]:
    prose = FENCE.sub("", README)
    return re.findall(r"`([^`\n]+)`", prose)


def readme_commands() -> list[str]:
    """Shell commands: each line of the bash blocks (comments cut), then inline commands."""
    found = []
    for block in _blocks("bash"):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                found.append(line)
    found += [s.strip() for s in _inline_spans() if COMMAND.match(s.strip()) and len(s.split()) > 1]
    return list(dict.fromkeys(found))


def readme_paths() -> list[str]:
    """Every token in code (inline or blocks) that looks like a file or folder of the repository."""
    texts = _inline_spans() + [body for _, body in FENCE.findall(README)]
    tokens = set()
    for text in texts:
        for token in re.split(r"[\s\"'(),=:\[\]]+", text):
            if "/" in token or PATH_TOKEN.match(token):
                token = token.rstrip(".")
                if PATH_TOKEN.match(token) and not token.startswith(("http", "/")) and "." + token != token:
                    tokens.add(token)
    return sorted(tokens)


def test_the_readme_names_only_files_that_exist():
    paths = readme_paths()
    assert "notebooks/04_sharing.ipynb" in paths and "../data/orders.csv" in paths  # the scan works
    missing = []
    for path in paths:
        if path in WRITTEN or Path(path).name in WRITTEN:
            continue
        # from the repository's root, or from notebooks/ (the notebooks' own paths: ../data/...)
        if not (ROOT / path).exists() and not (ROOT / "notebooks" / path).exists():
            missing.append(path)
    assert not missing, f"README names files that are not in the repository: {missing}"


def _kind(command: str) -> str | None:
    """Why a command is skipped here, or None when it runs."""
    words = shlex.split(command)
    if PLACEHOLDER.search(command):
        return "placeholder"
    if words[0] in SKIPPED:
        return words[0]
    if "--workers" in words and int(words[words.index("--workers") + 1]) > 1:
        return "workers"
    return None


def _toolkit_args(words: list[str]) -> list[str]:
    return words[3:] if words[:3] == ["python", "-m", "toolkit"] else words[1:]


COMMANDS = readme_commands()


def test_the_readme_commands_are_found():
    assert "make demo" in COMMANDS and "make test" in COMMANDS
    assert "python -m toolkit serve notebooks/04_sharing.ipynb" in COMMANDS
    assert "python -m toolkit settings" in COMMANDS
    unknown = [c for c in COMMANDS if not COMMAND.match(c)]
    assert not unknown, f"README shows commands this test does not know how to run: {unknown}"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_readme_command_runs(command, tmp_path):
    why = _kind(command)
    words = shlex.split(command)
    if words[0] == "pip":  # the extras it installs exist
        extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
        for spec in [w for w in words if w.startswith(".[")]:
            assert set(spec[2:-1].split(",")) <= set(extras), f"{command}: no such extra in pyproject"
    if why is not None:
        if words[0] in ("python", "toolkit") and why != "placeholder":
            build_parser().parse_args(_toolkit_args(words))  # the options exist, at least
        pytest.skip(SKIPPED[why])
    if words[0] == "make":
        done = _run(["make", "-n", *words[1:]])
        assert done.returncode == 0, done.stderr
        return
    assert words[0] in ("python", "toolkit"), command
    _run_toolkit(_toolkit_args(words), tmp_path)


def _run(argv: list[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)


def _run_toolkit(args: list[str], tmp_path: Path) -> None:
    if args in (["serve"], ["export"]):  # a mention of the command: its help
        args = [args[0], "--help"]
    if "--help" not in args:
        build_parser().parse_args(args)
    if args[0] == "serve" and "--help" not in args:
        _serve_until_healthy(args)
        return
    if args[0] == "export":
        out = tmp_path / Path(args[args.index("-o") + 1]).name
        args = [*args[: args.index("-o") + 1], str(out)]
    done = _run([sys.executable, "-m", "toolkit", *args])
    assert done.returncode == 0, done.stderr[-3000:]
    if args == ["settings"]:
        assert done.stdout.strip() == settings_table()
    if args[0] == "export":
        assert "wsgi" in out.read_text()
    if "--help" in args:
        assert_plain_text(done.stdout)


def _serve_until_healthy(args: list[str]) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "toolkit", *args, "--port", "0"], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(120)
    try:
        found = re.search(r"at (http://\S+)$", lines[0].strip()) if lines else None
        assert found, f"{args} did not start: {lines}"
        assert requests.get(found.group(1) + "/_toolkit/health", timeout=30).status_code == 200
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


# --- the command line's help ------------------------------------------------------------------------

MARKUP = re.compile(r"``|:(func|class|meth|mod|attr):|^\.\. |::$", re.M)


def assert_plain_text(text: str) -> None:
    assert not MARKUP.search(text), f"--help shows reST markup:\n{text}"


@pytest.mark.parametrize("command", [[], ["serve"], ["export"], ["demo"], ["settings"]],
                         ids=["main", "serve", "export", "demo", "settings"])
def test_help_is_plain_text_with_examples(command):
    done = _run([sys.executable, "-m", "toolkit", *command, "--help"])
    assert done.returncode == 0 and done.stdout.startswith("usage: python -m toolkit")
    assert_plain_text(done.stdout)
    if command in ([], ["serve"], ["export"]):
        assert "example" in done.stdout and "notebooks/04_sharing.ipynb" in done.stdout
    if not command:
        assert "serve" in done.stdout and "Chatlayer" in done.stdout


@pytest.mark.parametrize("text", ["see ``toolkit serve``", ":func:`toolkit.App`", "Usage::", ".. note::"])
def test_the_markup_check_catches_rest(text):
    with pytest.raises(AssertionError, match="reST markup"):
        assert_plain_text(f"usage: x\n{text}\n")


# --- images ------------------------------------------------------------------------------------------

IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)|<img\b[^>]*\bsrc=[\"']([^\"']+)", re.I)


def image_problems(text: str, folder: Path, attachments: dict | None = None) -> list[str]:
    """Image references that would not load offline: remote URLs, missing files, missing attachments."""
    problems = []
    for match in IMAGE.finditer(text):
        src = match.group(1) or match.group(2)
        if src.startswith("attachment:"):
            if src.split(":", 1)[1] not in (attachments or {}):
                problems.append(f"{src} (no such attachment)")
        elif src.startswith("data:image/"):
            continue
        elif re.match(r"^[a-z]+://", src, re.I) or src.startswith("//"):
            problems.append(f"{src} (needs the network)")
        elif not (folder / src).is_file():
            problems.append(f"{src} (no such file)")
    return problems


def test_tutorial_images_load_offline():
    problems = image_problems(README, ROOT)
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "markdown":
                found = image_problems(cell.source, path.parent, cell.get("attachments"))
                problems += [f"{path.name} cell {index}: {p}" for p in found]
    assert not problems, f"images that do not load offline: {problems}"


def test_the_image_check_catches_remote_and_missing_images(tmp_path):
    (tmp_path / "shot.png").write_bytes(b"\x89PNG")
    text = ("![ok](shot.png) ![web](https://example.com/a.png) <img src='missing.png'> "
            "![att](attachment:x.png) ![gone](attachment:y.png) ![inline](data:image/png;base64,AAAA)")
    assert image_problems(text, tmp_path, {"x.png": {}}) == [
        "https://example.com/a.png (needs the network)", "missing.png (no such file)",
        "attachment:y.png (no such attachment)"]


def test_the_notebook_table_lists_every_notebook():
    listed = set(re.findall(r"^\| `(\d\d_\w+)` \|", README, flags=re.MULTILINE))
    shipped = {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert listed == shipped, f"missing from the README's table: {sorted(shipped - listed)}"


def test_the_copy_table_example_runs_against_the_shipped_data(tmp_path):
    (line,) = [s for s in _inline_spans() if s.startswith("python -m toolkit copy-table")]
    words = shlex.split(line.replace("<url>", f"sqlite:///{tmp_path / 'shop.db'}"))
    done = _run([sys.executable, *words[1:]])
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Copied" in done.stdout and "rows of orders" in done.stdout


# --- a quick start, pointing at the docs ----------------------------------------------------------------

def test_the_readme_is_a_quick_start_that_links_to_existing_docs_pages():
    assert len(README.splitlines()) <= 150, "the README is the quick start: the manual lives in docs/"
    links = re.findall(r"\]\(([^)\s]+)\)", README)
    local = [link for link in links if not re.match(r"^[a-z]+://", link)]
    assert "docs/howto/deploy.md" in local and "docs/chatlayer-contract.md" in local  # the scan works
    missing = [link for link in local if not (ROOT / link.split("#")[0]).is_file()]
    assert not missing, f"README links to pages that do not exist: {missing}"
    assert "TOOLKIT_TEST_POSTGRES_URL" in README  # how to run the database tests outside CI
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert f"`{notebook.stem}`" in README, f"the notebooks table lacks {notebook.stem}"
