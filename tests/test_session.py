"""Session: user variables, the read-only internal object, paths with dots and indexes, and the
member-wise write of an API reply."""

from __future__ import annotations

import pytest

import toolkit as tk
from toolkit.emulator.paths import parse
from toolkit.errors import PathError, SessionError


def test_paths_with_dots_and_indexes():
    assert parse("users[0].firstname") == ("users", 0, "firstname")
    assert parse("{order.id}") == ("order", "id")
    assert parse("matrix[1][2]") == ("matrix", 1, 2)
    for bad in ("", ".a", "a..b", "a[x]", "[0]", "a b"):
        with pytest.raises(PathError, match="session path|empty"):
            parse(bad)


def test_get_reads_nested_values_lists_and_internal():
    s = tk.Session({"users": [{"firstname": "Ada"}, {"firstname": "Bob"}], "order": {"id": "A-1042"}},
                   session_id="sess-12345678901234567890", user={"firstName": "Ada", "lastName": "L"})
    assert s.get("users[1].firstname") == "Bob"
    assert s.get("users.0.firstname") == "Ada"  # a digit name indexes a list too
    assert s.get("order.id") == "A-1042"
    assert s.get("order.nope", "default") == "default"
    assert s.get("users[5].firstname") is None
    assert s.get("internal.sessionId") == "sess-12345678901234567890"
    assert s.get("internal.user.fullName") == "Ada L"
    assert "order.id" in s and "order.nope" not in s
    assert s["order"] == {"id": "A-1042"}
    with pytest.raises(KeyError):
        s["nope"]


def test_internal_has_every_documented_field_and_is_read_only():
    s = tk.Session(version="LIVE", channel="whatsapp", locale="nl-be", preferred_language="nl")
    internal = s.internal
    assert set(internal) >= {"botId", "sessionId", "version", "channel", "user", "preferredLanguage", "locale",
                             "currentDialogstate", "previousDialogstate", "messageContent", "messageType"}
    assert (internal.version, internal.channel, internal.locale, internal.preferredLanguage) == (
        "LIVE", "whatsapp", "nl-be", "nl")
    assert internal.messageType == "intro" and internal.currentDialogstate is None
    assert len(internal.sessionId) >= 20
    with pytest.raises(SessionError, match="read-only"):
        internal.version = "DRAFT"
    with pytest.raises(SessionError, match="read-only"):
        s.set("internal.version", "DRAFT")
    with pytest.raises(SessionError, match="read-only"):
        s.write("internal", {"version": "DRAFT"})
    internal.user["firstName"] = "Mallory"  # a copy: the session is unchanged
    assert s.get("internal.user.firstName") == "Test"
    with pytest.raises(SessionError, match="DRAFT or LIVE"):
        tk.Session(version="PROD")


def test_moving_between_blocks_keeps_the_previous_one():
    s = tk.Session()
    s._move_to({"name": "welcome", "id": "b1", "type": "MESSAGE"})
    s._move_to({"name": "ask", "id": "b2", "type": "INPUT_VALIDATION"})
    assert s.internal.currentDialogstate == {"name": "ask", "id": "b2", "type": "INPUT_VALIDATION"}
    assert s.internal.previousDialogstate["name"] == "welcome"
    assert repr(s.internal) == "Internal(version='DRAFT', channel='web', currentDialogstate='ask')"


def test_set_creates_objects_and_appends_to_lists():
    s = tk.Session()
    s.set("order.id", "A-1")
    s.set("users[0].firstname", "Ada")
    s.set("users[1].firstname", "Bob")
    assert s.data == {"order": {"id": "A-1"}, "users": [{"firstname": "Ada"}, {"firstname": "Bob"}]}
    with pytest.raises(PathError, match="out of reach"):
        s.set("users[5].firstname", "Eve")
    s["count"] = 3
    s.update({"a.b": 1})
    assert s.get("a.b") == 1 and s.get("count") == 3


def test_write_merges_members_into_the_namespace():
    s = tk.Session({"order": {"id": "A-1042", "status": "processing", "note": "gift"}})
    s.write("order", {"status": "shipped", "eta": "2025-03-16"})
    assert s.get("order") == {"id": "A-1042", "status": "shipped", "note": "gift", "eta": "2025-03-16"}
    s.write("broadcasts", [{"title": "Morning"}])  # an array replaces (a public backend sends one)
    assert s.get("broadcasts[0].title") == "Morning"
    s.write("order", "gone")
    assert s.get("order") == "gone"


def test_data_is_a_copy_and_clear_restores_defaults():
    s = tk.Session({"x": {"y": 1}}, defaults={"lang": "en"})
    s.data["x"]["y"] = 99
    assert s.get("x.y") == 1 and s.get("lang") == "en"
    s.clear()
    assert s.data == {"lang": "en"}
    assert s.to_dict()["internal"]["version"] == "DRAFT"


def test_repr_is_short_and_deterministic():
    assert repr(tk.Session({"order": {}, "lead": {}})) == "<Session: 2 variables (order, lead)>"
    assert repr(tk.Session()) == "<Session: 0 variables>"
