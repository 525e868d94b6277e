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


def test_a_misspelt_setting_is_an_attribute_error_naming_the_closest():
    settings = tk.App("typo").settings
    with pytest.raises(AttributeError, match=r"No setting 'dedline_s'\. Did you mean 'deadline_s'\?"):
        settings.dedline_s  # noqa: B018
    with pytest.raises(tk.ConfigError, match="No setting 'zzz'"):  # still a ConfigError too
        settings.zzz  # noqa: B018
    assert getattr(settings, "dedline_s", "fallback") == "fallback"  # getattr's default works
    assert not hasattr(settings, "__setstate__") or callable(settings.__setstate__)


def test_settings_class_has_one_typed_attribute_per_setting_of_the_table():
    import typing

    hints = {k: v for k, v in typing.get_type_hints(Settings).items() if not k.startswith("_")}
    assert list(hints) == [s.name for s in SETTINGS], (
        "toolkit.config.Settings must list every setting of SETTINGS, in its order, as a typed attribute:\n"
        + "\n".join(f"    {s.name}: {type(s.default).__name__}" for s in SETTINGS))
    for s in SETTINGS:
        hint = hints[s.name]
        if s.choices:
            assert typing.get_origin(hint) is typing.Literal and typing.get_args(hint) == s.choices, s.name
        else:
            assert hint is type(s.default), s.name
        assert isinstance(getattr(Settings(), s.name), type(s.default))
