"""The public surface type-checks: a user's script passes ``mypy --strict`` and its slips are caught.

Also: ``dir(toolkit)`` offers every public name (tab completion in a notebook) and each resolves, and
``import toolkit`` stays light (the lazy names load their heavy imports on first use).
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import toolkit

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "tests" / "type_check"


@pytest.fixture(scope="module")
def mypy_report(tmp_path_factory):
    """One mypy run over both scripts with the project's configuration (strict), its cache in a tmp dir."""
    from mypy import api

    cache = tmp_path_factory.mktemp("mypy-cache")
    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(cache),
                                "--no-error-summary", "--show-absolute-path",
                                str(SCRIPTS / "ok.py"), str(SCRIPTS / "typo.py")])
    assert not err, err
    errors: dict[str, set[int]] = {}
    for line in out.splitlines():
        found = re.match(r"(.+?):(\d+): error: ", line)
        if found:
            errors.setdefault(Path(found[1]).name, set()).add(int(found[2]))
    return out, status, errors


@pytest.mark.slow
def test_a_users_script_type_checks_strictly(mypy_report):
    out, _, errors = mypy_report
    assert "ok.py" not in errors, out


@pytest.mark.slow
def test_mypy_rejects_each_slip_in_typo_py_and_nothing_else(mypy_report):
    out, status, errors = mypy_report
    lines = (SCRIPTS / "typo.py").read_text().splitlines()
    expected = {n for n, line in enumerate(lines, 1) if "  # E: " in line}
    assert status == 1 and len(expected) >= 7
    assert errors.get("typo.py") == expected, out
    for n in expected:  # the message the line expects, e.g. 'has no attribute "dedline_s"'
        message = lines[n - 1].split("  # E: ", 1)[1]
        assert f"typo.py:{n}: error: {message}" in out, (n, out)
    assert 'maybe "deadline_s"?' in out  # mypy names the setting meant


def test_dir_lists_every_public_name_and_each_resolves():
    names = dir(toolkit)
    missing = [n for n in toolkit.__all__ if n not in names]
    assert not missing, f"not offered by dir(toolkit): {missing}"
    assert {"Table", "LogView", "ChatlayerClient", "calibrate", "Incoming", "Outgoing"} <= set(names)
    unresolved = [n for n in toolkit.__all__ if getattr(toolkit, n, None) is None]
    assert not unresolved
    assert not {"Response", "list_"} & set(toolkit.__all__)  # deprecated names are not offered
    with pytest.raises(AttributeError, match="module 'toolkit' has no attribute 'Tabel'"):
        toolkit.Tabel  # noqa: B018


def test_import_toolkit_does_not_import_requests_or_ipywidgets():
    # pandas is imported today (toolkit.data.frames imports toolkit.data, which imports pandas): not checked.
    code = ("import sys, toolkit\n"
            "heavy = {'requests', 'ipywidgets'} & set(sys.modules)\n"
            "assert not heavy, heavy\n"
            "toolkit.ChatlayerClient, toolkit.LogView\n"
            "assert {'requests', 'ipywidgets'} <= set(sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
