"""What some tests need from the machine (Chromium for the browser test, a PostgreSQL server for the
database tests). Outside CI a test whose need is missing skips, and its reason says how to enable it;
under CI (``CI`` set to ``true``, as CI services and ``.ci/run`` do) it fails with the same words, so a
broken CI set-up can never pass by skipping.

>>> missing("needs X: run 'apt-get install x' to enable it")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NoReturn

import pytest

OFF = ("", "0", "false", "no", "off")


def in_ci(env: Mapping[str, str] | None = None) -> bool:
    """Whether the tests run under CI: ``CI`` is set to anything but empty, 0, false, no or off."""
    return (os.environ if env is None else env).get("CI", "").strip().lower() not in OFF


def missing(reason: str, env: Mapping[str, str] | None = None) -> NoReturn:
    """Skip the current test for ``reason`` (which says how to enable it); under CI, fail instead."""
    if in_ci(env):
        pytest.fail(f"CI is set, so this test must run, not skip: {reason}", pytrace=False)
    pytest.skip(reason)
