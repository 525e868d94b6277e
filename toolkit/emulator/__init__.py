"""The Chatlayer side, emulated: a :class:`Session` with templates, the :class:`ApiStep` that calls a
backend and applies its reply in Chatlayer's order, a :class:`Flow` of blocks (Python, YAML or JSON),
and a :class:`Conversation` to chat with it or to test it from a script.

Facts and open questions: ``shared/chatlayer-contract.md``; every assumption is listed in the README
("The emulator") and, where the sources are silent, is a setting (``emulator_*``, ``missing_variable``).
"""

from ..errors import ApiStepError, ConversationError, FlowError, PathError, SessionError, TemplateError
from .apistep import ApiStep, StepError, StepResult, apply, interpret
from .blocks import ApiBlock, Block, GoToBlock, InputBlock, MessageBlock, SetBlock
from .choices import Choice
from .conversation import Conversation
from .coverage import Coverage, Item
from .diagram import Diagram, mermaid
from .engine import Step
from .flow import Flow
from .request import Row, StepRequest
from .rules import Condition, Intent
from .script import Report, ScriptTurn
from .session import Internal, Session
from .templating import MODIFIERS
from .transcript import Turn, message_text

__all__ = [
    "ApiBlock", "ApiStep", "ApiStepError", "Block", "Choice", "Condition", "Conversation",
    "ConversationError", "Coverage", "Diagram", "Flow", "FlowError", "GoToBlock", "InputBlock", "Intent",
    "Internal", "Item", "MODIFIERS", "MessageBlock", "PathError", "Report", "Row", "ScriptTurn", "Session",
    "SessionError", "SetBlock", "Step", "StepError", "StepRequest", "StepResult", "TemplateError", "Turn",
    "apply", "interpret", "mermaid", "message_text",
]
