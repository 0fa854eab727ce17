"""Messages made of parts that carry a visibility, and named hint sections.

Every piece of prompt text is a :class:`Part`. A part is seen by both teacher and student
(``both``), by the teacher only (``teacher``), or is a *droppable hint section* (``hint``) with a
name: the teacher always sees it, and training drops it from the student's view independently
with some probability. This is what lets one recorded conversation give both the teacher's and
the student's context over identical target tokens.

A part may also be *ephemeral*: shown only while its message belongs to the latest step (format
reminders in instruction messages; older ones are shown shortened). :func:`visible_text` applies
that rule, so the context of any step can be rebuilt exactly as the agent sent it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, Field, model_validator

Role = Literal["system", "user", "assistant"]
Visibility = Literal["both", "teacher", "hint"]
View = Literal["teacher", "student"]


class Part(BaseModel):
    """A span of message text and who may see it."""

    text: str
    visibility: Visibility = "both"
    section: str | None = None
    ephemeral: bool = False

    @model_validator(mode="after")
    def _section_names_hints(self) -> Part:
        if self.visibility == "hint" and not self.section:
            raise ValueError("a hint part needs a section name")
        return self


class Message(BaseModel):
    """One chat message.

    ``kind`` says what the message is for (``task``, ``status``, ``monologue_instruction``,
    ``monologue``, ``code_instruction``, ``code``, ``observation``, ``hint``...). For assistant
    messages ``prefill`` is the opening tag that was put in the model's mouth (context, never a
    training target) and the parts hold what the model generated, closing tag included.
    ``step`` is the agent step the message belongs to (``None`` for the preamble).
    """

    role: Role
    parts: list[Part]
    kind: str = "text"
    step: int | None = None
    prefill: str = ""
    target: bool = False

    @classmethod
    def of(cls, role: Role, text: str, **kw: object) -> Message:
        return cls(role=role, parts=[Part(text=text)], **kw)

    @property
    def text(self) -> str:
        """The teacher's view of the message, ephemeral parts included."""
        return self.prefill + "".join(p.text for p in self.parts)

    def hint_sections(self) -> list[str]:
        return [p.section for p in self.parts if p.visibility == "hint" and p.section]


class HintSection(BaseModel):
    """A named piece of guidance that training may drop from the student's prompt."""

    name: str
    text: str


class HintSet(BaseModel):
    """An ordered, named collection of hint sections (e.g. ``toolqa/coffee`` or ``combined``)."""

    name: str
    sections: list[HintSection] = Field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.sections)

    def select(self, names: Iterable[str]) -> HintSet:
        wanted = set(names)
        return HintSet(name=self.name, sections=[s for s in self.sections if s.name in wanted])


KeepPart = Callable[[Part], bool]


def teacher_keeps(part: Part) -> bool:
    """The teacher sees everything."""
    return True


def student_keeps_nothing_hidden(part: Part) -> bool:
    """A student that sees no hint and no teacher-only text."""
    return part.visibility == "both"


def visible_text(message: Message, latest_step: int | None, keep: KeepPart = teacher_keeps) -> str:
    """Render one message: parts ``keep`` accepts, ephemeral parts only in the latest step."""
    current = message.step is None or message.step == latest_step
    body = "".join(p.text for p in message.parts if keep(p) and (current or not p.ephemeral))
    return message.prefill + body


def latest_step(messages: Sequence[Message]) -> int | None:
    steps = [m.step for m in messages if m.step is not None]
    return max(steps) if steps else None


def to_chat(messages: Sequence[Message], keep: KeepPart = teacher_keeps) -> list[dict[str, str]]:
    """OpenAI-style ``[{role, content}]`` for a conversation, with the ephemeral rule applied.

    User or system messages left empty by ``keep`` are dropped (a tool-docs message that the
    student does not see is not sent as an empty turn).
    """
    last = latest_step(messages)
    out = []
    for m in messages:
        content = visible_text(m, last, keep)
        if content or m.role == "assistant":
            out.append({"role": m.role, "content": content})
    return out


def alternate_roles(chat: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    """``chat`` with each run of consecutive same-role rows joined into one row (blank-line separated).

    The agent sends several user messages in a row (task, guidelines, tool docs, status,
    instruction); chat templates of the Mistral, Gemma and Llama-2 kind, and the Anthropic API, accept
    only alternating roles. Every backend and training send the conversation through this function,
    so what a model was prompted with at collection is token for token what training renders.
    """
    merged: list[dict[str, str]] = []
    for row in chat:
        if merged and merged[-1]["role"] == row["role"]:
            merged[-1] = {"role": row["role"], "content": f"{merged[-1]['content']}\n\n{row['content']}"}
        else:
            merged.append({"role": row["role"], "content": row["content"]})
    return merged
