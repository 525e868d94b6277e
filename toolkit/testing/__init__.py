"""The testing layer: logged exchanges saved as fixtures, checked against the current handlers,
replayed with a diff, and turned into pytest cases (``fixture_tests``).
"""

from ..errors import FixtureError
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
from .replay import Diff, Replayed, diff, replay, replay_all

__all__ = [
    "Checked", "Diff", "FixtureError", "Replayed", "Report", "assert_fixture", "check", "check_folder",
    "diff", "fixture_tests", "load_fixture", "load_fixtures", "replay", "replay_all", "run_tests",
    "save_fixtures", "to_fixture",
]
