"""``ChatView``: chat with an emulator :class:`~toolkit.Conversation` in the notebook.

Chat bubbles (``toolkit.html.render``), real buttons for the buttons, quick replies and carousel-card
buttons the bot just offered, a text box, and a location button. It follows the conversation:
messages pushed from another thread (``conversation.receive``) show up too. Put it beside the live
log: ``ipywidgets.HBox([toolkit.ChatView(conversation), app.log_view()])``.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import ipywidgets as w

from ..emulator.choices import Choice
from ..emulator.conversation import Conversation
from ..emulator.transcript import Turn, transcript_html
from ..errors import ToolkitError
from ..html.templates import macro, trusted
from ..server.lifecycle import Server
from .snapshot import ServerWatch, current_cell, freeze

MAX_ENTRIES = 300  # bubbles kept on screen (the conversation keeps them all)
_open_views: dict[str, weakref.ref[ChatView]] = {}
ICONS = {"web_url": " ↗", "phone_number": " ☎"}


class ChatView(w.VBox):
    """A chat window on ``conversation``: display it in a cell, then type or click.

    Drive it from code too: :meth:`send`, :meth:`press` (by title), :meth:`share_location`.
    ``location`` is what the location button shares. A new view of a conversation with the same flow
    name freezes the old one (its bubbles stay, under a "Replaced by ..." note), as :meth:`close` does;
    so does stopping the server the conversation talks to (its ``backend`` server, or a live bot's).
    """

    def __init__(self, conversation: Conversation, *, height: int = 420,
                 location: tuple[float, float] = (50.8466, 4.3528), width: str = "420px") -> None:
        if not isinstance(conversation, Conversation):
            raise TypeError(f"ChatView needs a toolkit.Conversation, got {type(conversation).__name__}: "
                            "make one with toolkit.Conversation(flow, backend=app).")
        super().__init__(layout=w.Layout(width=width, flex="0 0 auto", border="1px solid #ddd",
                                         padding="6px", margin="0 8px 0 0"))
        self.add_class("tk-chat")
        self.conversation, self.height, self.location = conversation, int(height), location
        self.redraws = 0
        self._closed = True  # until fully built
        self._draw_lock = threading.Lock()
        self._header = w.HTML(str(macro("widgets.html", "chat_header")(conversation.flow.name)))
        self._bubbles = w.HTML(layout=w.Layout(min_width="0"))
        self._bubbles.add_class("tk-chat-bubbles")
        self._choices = w.Box(layout=w.Layout(display="flex", flex_flow="row wrap"))
        self._status = w.HTML()
        self._text = w.Text(placeholder="Type a message and press Enter", continuous_update=False,
                            layout=w.Layout(flex="1 1 auto", width="auto"))
        self._send_button = w.Button(description="Send", button_style="primary",
                                     layout=w.Layout(width="72px"))
        self._text.observe(self._on_text, names="value")
        self._send_button.on_click(lambda _button: self._typed(self._text.value))
        self.children = [self._header, self._bubbles, self._choices, self._status,
                         w.HBox([self._text, self._send_button])]
        self._unsubscribe = conversation.subscribe(self.refresh)
        self._closed = False
        _replace_open_view(self)
        backend, live = conversation.backend, conversation.live
        self._watch = ServerWatch(self, "this chat no longer follows the conversation",
                                  server=backend if isinstance(backend, Server) else None,
                                  app=getattr(live, "app", None) if live is not None else None)
        self.refresh()

    # --- driving it --------------------------------------------------------------------------------

    def send(self, text: str) -> Turn | None:
        """Say ``text`` (what the text box does)."""
        return self._act(lambda: self.conversation.say(text))

    def press(self, title: str, *, card: str | None = None) -> Turn | None:
        """Click the offered button titled ``title`` (what a button click does)."""
        for choice in self.conversation.choices():
            if choice.title == title and (card is None or choice.card == card):
                return self._choose(choice)
        return self._act(lambda: self.conversation.click(title, card=card))

    def share_location(self, lat: float | None = None, lon: float | None = None) -> Turn | None:
        """Share ``(lat, lon)``, by default :attr:`location` (what the location button does)."""
        where = (lat, lon) if lat is not None and lon is not None else self.location
        return self._act(lambda: self.conversation.share_location(*where))

    @property
    def buttons(self) -> list[w.Button]:
        """The buttons shown for the latest choices."""
        return [b for b in self._choices.children if isinstance(b, w.Button)]

    # --- drawing -------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Redraw bubbles and buttons from the conversation (called after every change)."""
        if getattr(self, "_closed", True):
            return
        with self._draw_lock:
            entries = self.conversation.transcript[-MAX_ENTRIES:]
            bubbles = trusted(transcript_html(entries))
            self._bubbles.value = str(macro("widgets.html", "chat_bubbles")(self.height, bubbles))
            old = list(self._choices.children)
            self._choices.children = [self._button(c) for c in self.conversation.choices()]
            for button in old:
                button.close()
            self.redraws += 1

    def _button(self, choice: Choice) -> w.Button:
        label = ("📍 " if choice.kind == "location" else "") + choice.title + ICONS.get(choice.kind, "")
        if choice.card:
            label = f"{_cut(choice.card, 24)} › {label}"
        tip = f"card {choice.card}" if choice.card else choice.kind
        button = w.Button(description=label, tooltip=tip, layout=w.Layout(width="auto", margin="2px"),
                          button_style="info" if choice.kind == "location" else "")
        button.on_click(lambda _button, c=choice: self._choose(c))
        return button

    def _choose(self, choice: Choice) -> Turn | None:
        if choice.kind == "location":
            return self.share_location()
        return self._act(lambda: self.conversation.click(choice.title, card=choice.card))

    def _on_text(self, change: dict[str, Any]) -> None:
        self._typed(change.get("new") or "")

    def _typed(self, text: str) -> None:
        if text.strip():
            self._text.value = ""
            self.send(text)

    def _act(self, action: Any) -> Turn | None:
        try:
            turn = action()
        except ToolkitError as exc:
            self._status.value = str(macro("widgets.html", "chat_error")(str(exc)))
            return None
        self._status.value = ""
        return turn

    def close(self, note: str | None = None, *, keep: bool = True) -> None:
        """Stop following the conversation and close the buttons and text box.

        With ``keep`` (the default) the chat stays on the page as a frozen picture of its bubbles under
        ``note`` (by default "Stopped"); ``keep=False`` removes it from the page.
        """
        if not getattr(self, "_closed", True):
            self._closed = True
            self._unsubscribe()
            ref = _open_views.get(self.conversation.flow.name)
            if ref is not None and ref() is self:
                del _open_views[self.conversation.flow.name]
            last = self._header.value + self._bubbles.value
            for child in [*self._choices.children, *self.children, *self.children[-1].children]:
                child.close()
            if keep:
                freeze(self, last, note or "Stopped: this chat no longer follows the conversation; "
                                           "its last state is shown.")
                self._frozen = True
                return
        elif keep and getattr(self, "_frozen", False):
            return  # closed already: its frozen picture stays (a second close, or its server stopping)
        super().close()

    def __repr__(self) -> str:
        return f"ChatView(flow={self.conversation.flow.name!r})"


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _replace_open_view(view: ChatView) -> None:
    name = view.conversation.flow.name
    ref = _open_views.get(name)
    old = ref() if ref is not None else None
    if old is not None and old is not view:
        old.close(f"Replaced by {current_cell()}: the chat {name!r} continues there.")
    _open_views[name] = weakref.ref(view)
