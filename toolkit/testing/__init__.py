"""The testing layer: logged exchanges saved as fixtures, checked against the current handlers,
replayed with a diff (safely, edited or not), re-checked when a handler is redefined, and turned into
pytest cases (``fixture_tests``).
"""

from ..errors import FixtureError
from .edit import editable, replay_edited, replay_json
from .fixtures import (
    Checked,
    Report,
    assert_fixture,
    check,
    check_folder,
    fixture_tests,
    load_fixture,
    load_fixtures,
    run_tests,
    save_fixtures,
    to_fixture,
)
from .replay import Diff, Replayed, diff, replay, replay_all, safely
from .rerun import Recheck, recheck

__all__ = [
    "Checked", "Diff", "FixtureError", "Recheck", "Replayed", "Report", "assert_fixture", "check",
    "check_folder", "diff", "editable", "fixture_tests", "load_fixture", "load_fixtures", "recheck", "replay",
    "replay_all", "replay_edited", "replay_json", "run_tests", "safely", "save_fixtures", "to_fixture",
]
