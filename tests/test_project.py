"""The project's own files stay in step: environment.yml vs pyproject, the reference vs settings and names,
the README's example and commands."""

import re
import tomllib
from pathlib import Path

import yaml

import toolkit
from toolkit.config import SETTINGS

ROOT = Path(__file__).resolve().parents[1]


def _norm(spec: str) -> str:
    return re.sub(r"\s+", "", spec).lower().replace("_", "-")


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_norm(d) for d in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        wanted |= {_norm(d) for d in extra}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_norm(d) for d in env["dependencies"] if isinstance(d, str)}
    conda -= {d for d in conda if re.match(r"(python|pip)\b", d)}
    from_pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda |= {_norm(d) for d in from_pip if d != "-e ."}  # what conda-forge names otherwise
    assert conda == wanted
    py = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert _norm(py) == "python" + _norm(project["requires-python"])


def test_readme_opens_with_the_two_commands():
    head = (ROOT / "README.md").read_text().split("##")[0]
    assert "make demo" in head and "make test" in head


def _reference():
    import sys

    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    import toolkit_reference

    return toolkit_reference


def test_the_settings_reference_documents_every_setting():
    page = _reference().settings_page()  # generated into the docs at every build
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in page or f"TOOLKIT_{s.name.upper()}" not in page]
    assert not missing, f"the settings reference lacks {missing}"


def test_the_api_reference_mentions_every_public_name():
    page = _reference().api_page()
    missing = [n for n in toolkit.__all__ if not n.startswith("_") and f":: {n}\n" not in page]
    assert not missing, f"the API reference lacks {missing}"


def test_ci_runs_make_test_and_installs_chromium():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "apt-get install" in ci and "chromium" in ci


def test_the_readme_example_runs_and_answers():
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"## The 10-line example\s+```python\n(.*?)```", readme, re.S).group(1)
    assert len([line for line in example.splitlines() if line.strip()]) == 10  # "the 10-line example"
    namespace: dict = {}
    exec(compile(example, "README example", "exec"), namespace)
    try:
        import requests

        answer = requests.post(namespace["server"].url + "/order-status", json={"order_id": "A-1"}, timeout=10)
        assert answer.status_code == 200
        assert answer.json()["session"] == {"namespace": "order", "data": {"id": "A-1", "status": "shipped"}}
    finally:
        namespace["server"].stop()


def test_the_distribution_has_its_own_name_and_the_import_stays_toolkit():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "chatlayer-toolkit"  # "toolkit" on PyPI is an unrelated package
    assert project["scripts"] == {"toolkit": "toolkit.__main__:main"}
    assert "ngrok" in project["optional-dependencies"] and "dev" in project["optional-dependencies"]
    readme = (ROOT / "README.md").read_text()
    assert "toolkit[" not in readme and "pip install -e '.[ngrok]'" in readme and "chatlayer-toolkit" in readme
    assert "pip install -q -e '.[dev,ngrok,release]'" in (ROOT / "Makefile").read_text()
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert any(isinstance(d, dict) and "-e ." in d["pip"] for d in env["dependencies"])  # this checkout
    for path in [ROOT / "README.md", *ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("toolkit/**/*.py")]:
        assert "toolkit[ngrok]" not in path.read_text(), f"{path.name} still says toolkit[ngrok]"


def _make_n(target: str) -> str:
    import subprocess

    done = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_test_prints_skip_reasons():
    line = [ln for ln in _make_n("test").splitlines() if "pytest" in ln][-1]
    assert " -rs " in line and "--nbval-sanitize-with notebooks/sanitize.cfg" in line


def test_make_lab_allows_root_only_as_root():
    import os

    line = [ln for ln in _make_n("lab").splitlines() if "jupyter lab" in ln][-1]
    assert line.endswith("--allow-root") == (os.getuid() == 0), line
