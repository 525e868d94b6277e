import pytest

import toolkit as tk
from toolkit.config import SETTINGS, Settings


def test_defaults_env_and_keywords(monkeypatch):
    assert Settings().deadline_s == 5.0
    monkeypatch.setenv("TOOLKIT_DEADLINE_S", "2.5")
    monkeypatch.setenv("TOOLKIT_DEBUG", "yes")
    s = Settings()
    assert s.deadline_s == 2.5 and s.debug is True
    assert Settings(deadline_s=1).deadline_s == 1.0


def test_bad_env_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("TOOLKIT_LOG_SIZE", "many")
    with pytest.raises(tk.ConfigError, match="TOOLKIT_LOG_SIZE must be int, got 'many'"):
        Settings()


def test_unknown_setting_suggests_close_names():
    with pytest.raises(tk.ConfigError, match="Did you mean deadline_s"):
        tk.App("x", deadline=3)


def test_choices_are_checked():
    with pytest.raises(tk.ConfigError, match="must be one of both, action, top"):
        Settings(redirect_form="nested")


def test_secrets_are_masked_in_repr():
    s = Settings(auth_bearer="s3cr3t", deadline_s=2)
    assert "s3cr3t" not in repr(s) and "auth_bearer='***'" in repr(s)
    with pytest.raises(tk.ConfigError) as info:
        Settings(auth_bearer=123)
    assert "123" not in str(info.value)


def test_configure_changes_the_live_app():
    app = tk.App("x")
    app.add_handler("/a", lambda: None)
    app.configure(log_size=3)
    for _ in range(5):
        app.call("/a")
    app.call("/_toolkit/health", method="GET")  # health polls are never logged
    assert len(app.log) == 3 and app.log.total == 5


def test_every_setting_has_help():
    assert all(s.help.strip() for s in SETTINGS)
