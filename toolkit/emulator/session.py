"""``toolkit.Session``: a Chatlayer user session. User variables plus the read-only ``internal``
object (contract §1.4 and §3), paths with dots and indexes, templates, and the member-wise write an
API reply makes.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from ..config import Settings
from ..errors import SessionError
from . import paths
from .templating import Rendered, evaluate, render, render_all

VERSIONS = ("DRAFT", "LIVE")
INTERNAL_FIELDS = ("botId", "sessionId", "version", "channel", "user", "preferredLanguage", "locale",
                   "nlp", "currentDialogstate", "previousDialogstate", "messageContent", "messageType")


def _read_only(what: str) -> SessionError:
    return SessionError(f"{what}: internal is read-only in Chatlayer.",
                        hint="Store your own values in another variable, e.g. session.set('my.value', ...); "
                        "internal.* is filled by the platform (here: by the emulator).")


class Internal(Mapping[str, Any]):
    """The read-only ``internal`` object: ``session.internal.sessionId``, ``internal["locale"]``.

    Values are copies: changing one never changes the session.
    """

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, Any]) -> None:
        object.__setattr__(self, "_values", values)

    def __getitem__(self, key: str) -> Any:
        return copy.deepcopy(self._values[key])

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            fields = ", ".join(self._values)
            raise AttributeError(f"internal has no field {name!r} (fields: {fields})") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise _read_only(f"Cannot set internal.{name}")

    def __delattr__(self, name: str) -> None:
        raise _read_only(f"Cannot delete internal.{name}")

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        state = self._values.get("currentDialogstate") or {}
        return (f"Internal(version={self._values['version']!r}, channel={self._values['channel']!r}, "
                f"currentDialogstate={state.get('name')!r})")


class Session:
    """User variables plus the read-only ``internal`` object.

    >>> s = Session({"users": [{"firstname": "ada"}]})
    >>> s.get("users[0].firstname")
    'ada'
    >>> s.render("Hi {users[0].firstname|capitalize}!")
    'Hi Ada!'
    """

    def __init__(self, variables: Mapping[str, Any] | None = None, *, bot_id: str = "emulator-bot",
                 session_id: str | None = None, version: str = "DRAFT", channel: str = "web",
                 user: Mapping[str, Any] | None = None, preferred_language: str = "en",
                 locale: str = "en-us", defaults: Mapping[str, Any] | None = None,
                 settings: Settings | None = None) -> None:
        if version not in VERSIONS:
            raise SessionError(f"version must be DRAFT or LIVE, got {version!r}.",
                               hint="DRAFT is the bot being built, LIVE the published one.")
        self.settings = settings if settings is not None else Settings()
        self.defaults = copy.deepcopy(dict(defaults or {}))
        self.missing: list[str] = []  # template variables that were not set, first seen first
        self._lock = threading.RLock()
        self._vars: dict[str, Any] = copy.deepcopy(self.defaults)
        for key, value in (variables or {}).items():
            self.set(key, value)
        person = dict(user) if user is not None else {"firstName": "Test", "lastName": "User"}
        full = " ".join(str(person.get(k, "")) for k in ("firstName", "lastName"))
        person.setdefault("fullName", full.strip())
        self._internal: dict[str, Any] = {
            "botId": bot_id, "sessionId": session_id or f"emulator-{uuid.uuid4().hex[:24]}",
            "version": version, "channel": channel, "user": person,
            "preferredLanguage": preferred_language, "locale": locale, "nlp": {},
            "currentDialogstate": None, "previousDialogstate": None,
            "messageContent": "", "messageType": "intro",
        }

    # --- reading ---------------------------------------------------------------------------------

    @property
    def internal(self) -> Internal:
        """The read-only ``internal`` object (botId, sessionId, version, channel, user, ...)."""
        with self._lock:
            return Internal(copy.deepcopy(self._internal))

    @property
    def data(self) -> dict[str, Any]:
        """A copy of the user variables (without ``internal``)."""
        with self._lock:
            return copy.deepcopy(self._vars)

    @property
    def session_id(self) -> str:
        return str(self._internal["sessionId"])

    def find(self, path: str | tuple[Any, ...]) -> tuple[bool, Any]:
        """``(found, value)`` at ``path``; ``internal.*`` reads the internal object."""
        parts = paths.parse(path) if isinstance(path, str) else path
        with self._lock:
            root: Any = {"internal": self._internal, **self._vars} if parts[0] == "internal" else self._vars
            found, value = paths.lookup(root, parts)
            return found, copy.deepcopy(value)

    def get(self, path: str, default: Any = None) -> Any:
        """The value at ``path`` (``order.id``, ``users[0].firstname``, ``internal.locale``), or
        ``default``."""
        found, value = self.find(path)
        return value if found else default

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self.find(path)[0]

    def __getitem__(self, path: str) -> Any:
        found, value = self.find(path)
        if not found:
            raise KeyError(path)
        return value

    # --- writing ---------------------------------------------------------------------------------

    def set(self, path: str, value: Any) -> None:
        """Write ``value`` at ``path``, creating objects on the way. ``internal`` is read-only."""
        parts = paths.parse(path)
        if parts[0] == "internal":
            raise _read_only(f"Cannot write {path!r}")
        with self._lock:
            paths.assign(self._vars, parts, copy.deepcopy(value), path)

    __setitem__ = set

    def update(self, values: Mapping[str, Any]) -> None:
        """Write several paths at once."""
        for path, value in values.items():
            self.set(path, value)

    def write(self, namespace: str, data: Any) -> None:
        """What an API reply's ``session`` does: merge ``data`` member-wise into ``namespace``.

        Members of an object replace the members of the same name; other members stay. Data that is
        not an object (a list, a number) replaces the namespace's value.
        """
        if namespace == "internal":
            raise _read_only("A reply cannot write the namespace 'internal'")
        with self._lock:
            current = self._vars.get(namespace)
            if isinstance(data, Mapping) and isinstance(current, dict):
                current.update(copy.deepcopy(dict(data)))
            else:
                self._vars[namespace] = copy.deepcopy(data)

    def clear(self) -> None:
        """Chatlayer's *Clear session*: forget the variables; those with a default get it back."""
        with self._lock:
            self._vars = copy.deepcopy(self.defaults)

    # --- templates -------------------------------------------------------------------------------

    def render_report(self, template: str) -> Rendered:
        """The rendered text and the missing variables (also added to ``session.missing``)."""
        out = render(str(template), self.find, self.settings.missing_variable)
        with self._lock:
            self.missing += [m for m in out.missing if m not in self.missing]
        return out

    def render(self, template: str) -> str:
        """``template`` with ``{path|modifier}`` filled from this session."""
        return self.render_report(template).text

    def evaluate(self, template: Any) -> Any:
        """A template that is one placeholder gives the value itself (its type kept); other strings
        render as text; anything else is returned as it is."""
        if not isinstance(template, str):
            return template
        value, missing = evaluate(template, self.find, self.settings.missing_variable)
        with self._lock:
            self.missing += [m for m in missing if m not in self.missing]
        return value

    def render_all(self, value: Any) -> Any:
        """A copy of a JSON-like value (e.g. a message) with every string rendered."""
        return render_all(value, self.render)

    # --- what the platform changes (the emulator) -------------------------------------------------

    def _set_internal(self, **values: Any) -> None:
        unknown = set(values) - set(INTERNAL_FIELDS)
        if unknown:
            raise SessionError(f"internal has no field {sorted(unknown)}.", hint=f"Use {INTERNAL_FIELDS}.")
        with self._lock:
            self._internal.update(copy.deepcopy(values))

    def _move_to(self, state: Mapping[str, Any]) -> None:
        """Enter a block: current becomes previous, ``state`` ({name, id, type}) becomes current."""
        with self._lock:
            self._internal["previousDialogstate"] = self._internal["currentDialogstate"]
            self._internal["currentDialogstate"] = dict(state)

    def to_dict(self) -> dict[str, Any]:
        """Everything, as Chatlayer's session-data call shows it: variables plus ``internal``."""
        with self._lock:
            return {**copy.deepcopy(self._vars), "internal": copy.deepcopy(self._internal)}

    def __repr__(self) -> str:
        names = list(self._vars)
        shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
        listed = f" ({shown})" if names else ""
        return f"<Session: {len(names)} variable{'' if len(names) == 1 else 's'}{listed}>"
