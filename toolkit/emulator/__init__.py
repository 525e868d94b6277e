"""The offline emulator of Chatlayer: a :class:`Session` with templates, the :class:`ApiStep` that
calls a backend and applies its reply in Chatlayer's order, a :class:`Flow` of blocks (Python, YAML or
JSON), a :class:`Conversation` to chat with it or to test it from a script, coverage and diagrams.

Chatlayer's remote side as we emulate it (the V1 API, the webhook channel) is ``toolkit.v1emulator``;
the real bot and parity are ``toolkit.chatlayer``. Facts and open questions:
``shared/chatlayer-contract.md``; where the sources are silent, the behaviour is a setting
(``emulator_*``, ``missing_variable``).
"""

from ..errors import ApiStepError, ConversationError, FlowError, PathError, SessionError, TemplateError
from .apistep import ApiStep, StepError, StepResult, apply, interpret
from .blocks import ApiBlock, Block, GoToBlock, InputBlock, MessageBlock, SetBlock
from .choices import Choice
from .conversation import Conversation
from .coverage import Coverage, Item
from .diagram import Diagram, mermaid
from .flow import Flow
from .rules import Condition, Intent
from .runner import Step
from .script import Report, ScriptTurn
from .session import Internal, Session
from .steprequest import Row, StepRequest
from .templating import MODIFIERS
from .transcript import Turn, message_text

__all__ = [
    "ApiBlock", "ApiStep", "ApiStepError", "Block", "Choice", "Condition", "Conversation",
    "ConversationError", "Coverage", "Diagram", "Flow", "FlowError", "GoToBlock", "InputBlock", "Intent",
    "Internal", "Item", "MODIFIERS", "MessageBlock", "PathError", "Report", "Row", "ScriptTurn", "Session",
    "SessionError", "SetBlock", "Step", "StepError", "StepRequest", "StepResult", "TemplateError", "Turn",
    "apply", "interpret", "mermaid", "message_text",
]
