"""Scripted agents: a policy chooses a step (monologue and code); this module answers in the agent's format.

The agent loop asks for each step twice, each time with the opening tag prefilled (``prefill``):
first the inner monologue, then the code cell. A scripted agent answers with the body of the part
asked for and its closing tag (the text a model would generate after the prefill). A request
without a prefill (a benchmark that sends one plain request) is answered with the code.

    agent = scripted_agent(lambda request: next_step(steps, request.messages))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from agent.prompt import CODE_TAG, MONOLOGUE_TAG, close_tag, open_tag
from core.llm.base import Request
from core.llm.scripted import ScriptedClient


@dataclass(frozen=True)
class ExpertStep:
    """One step of a scripted agent (a benchmark's known-good solution, a deliberate mistake): the
    inner monologue and the code cell."""

    monologue: str
    code: str


def requested_tag(request: Request) -> str:
    """The tag whose body ``request`` asks for: the monologue's when prefilled with its opening tag, else the code's."""
    return MONOLOGUE_TAG if request.prefill.startswith(open_tag(MONOLOGUE_TAG)) else CODE_TAG


def steps_taken(messages: Sequence[dict[str, Any]]) -> int:
    """The code cells among chat ``messages`` (as sent, prefill included): the index of the step under way."""
    return sum(1 for m in messages if m["role"] == "assistant" and m["content"].startswith(open_tag(CODE_TAG)))


def next_step(steps: Sequence[ExpertStep], messages: Sequence[dict[str, Any]]) -> ExpertStep:
    """The step of ``steps`` under way in chat ``messages``; the last one again once all are taken."""
    return steps[min(steps_taken(messages), len(steps) - 1)]


def answer(step: ExpertStep, tag: str) -> str:
    """The part ``tag`` of ``step`` as a model writes it after the prefilled opening tag."""
    return f"{step.monologue if tag == MONOLOGUE_TAG else step.code}\n{close_tag(tag)}"


def reply(request: Request, step: ExpertStep) -> str:
    """The answer to ``request``: the part of ``step`` it asks for."""
    return answer(step, requested_tag(request))


def scripted_agent(choose: Callable[[Request], ExpertStep], *, model: str = "scripted",
                   delay: float = 0.0) -> ScriptedClient:
    """A client whose answer to each request is the requested part of the step ``choose(request)``."""
    return ScriptedClient(lambda request: reply(request, choose(request)), model=model, delay=delay)


def replay_agent(steps: Sequence[ExpertStep], *, model: str = "scripted") -> ScriptedClient:
    """A client that takes ``steps`` in order, in any conversation, and repeats the last one after them."""
    return scripted_agent(lambda request: next_step(steps, request.messages), model=model)
