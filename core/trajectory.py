"""Steps and trajectories: one JSON record per episode.

A trajectory keeps the full conversation (:attr:`Trajectory.messages`) as the agent sent it, and a
list of :class:`Step` records that point into it. :meth:`Trajectory.state` rebuilds the exact
context the agent was in before any step, which is what filters judge and training learns from.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from core.messages import Message

StepStatus = Literal["ok", "exception", "timeout", "format_error", "crashed", "completed"]

Termination = Literal[
    "completed",  # complete_task was called
    "budget_exhausted",  # ran out of steps
    "llm_error",  # the LLM endpoint failed for good (after retries)
    "workspace_error",  # the sandboxed worker could not be (re)started
    "context_overflow",  # the prompt no longer fits the model's context
    "cancelled",
]


class Usage(BaseModel):
    """Token, call and cost counts; add them up with ``+``."""

    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            calls=self.calls + other.calls,
            cost_usd=self.cost_usd + other.cost_usd,
        )


class Step(BaseModel):
    """One ReAct step: monologue, code cell, its observation.

    ``first_message`` is the index in :attr:`Trajectory.messages` of the step's first message
    (its status); ``monologue_message`` and ``code_message`` index the two assistant messages.
    """

    index: int
    first_message: int
    monologue_message: int | None = None
    code_message: int | None = None
    monologue: str = ""
    code: str = ""
    observation: str = ""
    status: StepStatus = "ok"
    format_errors: list[str] = Field(default_factory=list)
    token_ids: dict[str, list[int]] = Field(default_factory=dict)  # "monologue"/"code": sampled ids (hf-local)
    usage: Usage = Field(default_factory=Usage)
    llm_seconds: float = 0.0
    exec_seconds: float = 0.0


class Outcome(BaseModel):
    answer: Any = None
    report: str | None = None
    score: float = 0.0
    termination: Termination = "budget_exhausted"
    detail: str = ""

    @property
    def success(self) -> bool:
        return self.score >= 1.0


class PromptInfo(BaseModel):
    """How the prompt was built: preset, hint set and sections, tool documentation mode."""

    preset: str = ""
    hint_set: str = ""
    hint_sections: list[str] = Field(default_factory=list)
    tool_docs: Literal["none", "short", "long"] = "none"


class Trajectory(BaseModel):
    """One episode of one task by one model."""

    task_id: str
    trial: int = 0
    group: str = ""
    template: str = ""
    split: str = ""
    model: str = ""
    prompt: PromptInfo = Field(default_factory=PromptInfo)
    messages: list[Message] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    outcome: Outcome = Field(default_factory=Outcome)
    usage: Usage = Field(default_factory=Usage)
    started_at: float = 0.0  # Unix time the episode started (0: not recorded)
    wall_seconds: float = 0.0
    meta: dict[str, Any] = Field(default_factory=dict)

    @property
    def finished_at(self) -> float:
        """Unix time the episode ended (0 when its start was not recorded)."""
        return self.started_at + self.wall_seconds if self.started_at else 0.0

    @property
    def key(self) -> str:
        """Identifies the episode inside one run (the resume key)."""
        return f"{self.task_id}#{self.trial}"

    def state(self, step: int) -> list[Message]:
        """The messages that preceded the step's monologue request, as the agent had them.

        That is everything up to and including step ``step``'s monologue instruction; later
        messages, and the step's own monologue, are excluded.
        """
        s = self.steps[step]
        end = s.monologue_message if s.monologue_message is not None else len(self.messages)
        return [m.model_copy(deep=True) for m in self.messages[:end]]

    def step_messages(self, step: int) -> list[Message]:
        """The messages of one step, from its status to its observation."""
        start = self.steps[step].first_message
        end = self.steps[step + 1].first_message if step + 1 < len(self.steps) else len(self.messages)
        return self.messages[start:end]
