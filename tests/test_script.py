"""CSV-driven conversation runs show a tqdm progress bar (text on a terminal's stderr, a widget in a
notebook); ``progress=`` turns it on or off and ``TQDM_DISABLE=1`` turns every bar off."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROGRAM = textwrap.dedent('''
    import sys
    import toolkit as tk
    flow = tk.Flow("shop")
    flow.message("hi", "Hello")
    flow.intent("x", keywords=["x"], go="hi")
    chat = tk.Conversation(flow)
    report = chat.run(sys.argv[1], **eval(sys.argv[2]))
    print(bool(report), len(report))
''')


def _run(tmp_path: Path, script: str, options: str = "{}", **env: str) -> tuple[str, str]:
    if script.endswith(".csv"):
        (tmp_path / script).write_text("user,expect\n,Hello\nx,Hello\nx,Hello\nx,Hello\n")
        script = str(tmp_path / script)
    environ = {k: v for k, v in os.environ.items() if k != "TQDM_DISABLE"} | {"PYTHONPATH": str(ROOT), **env}
    done = subprocess.run([sys.executable, "-c", PROGRAM, script, options], capture_output=True, text=True,
                          env=environ, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr


def test_a_csv_run_shows_a_progress_bar_on_the_terminal(tmp_path):
    out, err = _run(tmp_path, "script.csv")
    assert out == "True 4\n"  # the report is unchanged
    assert "conversation 'shop':   0%|" in err and "| 0/4 [" in err and "turn/s]" in err


@pytest.mark.parametrize("options,env,shown", [
    ("{'progress': False}", {}, False),
    ("{}", {"TQDM_DISABLE": "1"}, False),
    ("{'progress': True}", {}, True),
])
def test_progress_can_be_turned_off_or_on(tmp_path, options, env, shown):
    out, err = _run(tmp_path, "script.csv", options, **env)
    assert out == "True 4\n"
    assert ("| 0/4 [" in err) is shown


def test_a_list_script_runs_without_a_bar_unless_asked(tmp_path):
    from toolkit.emulator.script import _progress, parse

    turns = parse([("", "Hello"), ("x", "Hello")])
    assert _progress(turns, "shop", False) is turns
    bar = _progress(turns, "shop", True)
    assert list(bar) == turns and bar.desc == "conversation 'shop'" and bar.total == 2
    assert _progress([], "shop", True) == []
