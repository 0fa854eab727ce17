"""State–action–hint training examples (one JSON line each).

An example is a conversation whose last assistant messages are *targets* (the action: the final
monologue and code). Context messages keep their parts' visibility marks, so training can render
the teacher's view (all hint sections) and the student's view (hint sections dropped) over the
same target tokens.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from core.messages import Message


class Provenance(BaseModel):
    """Where an example came from: enough to trace it back to an episode and a step."""

    run: str = ""
    trajectory: str = ""
    step: int | None = None
    filter: str | None = None
    hint: str | None = None
    sample: int | None = None
    round: int | None = None
    source: str = "teacher"  # "teacher" (round 1), "correction", "balance"


class Example(BaseModel):
    id: str
    messages: list[Message]
    group: str = ""
    template: str = ""
    task_id: str = ""
    success: bool | None = None
    provenance: Provenance = Field(default_factory=Provenance)
    meta: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ends_with_target(self) -> Example:
        if not self.messages or not self.messages[-1].target:
            raise ValueError("the last message must be a target")
        if any(m.target and m.role != "assistant" for m in self.messages):
            raise ValueError("only assistant messages can be targets")
        return self

    @property
    def state_id(self) -> str:
        """Examples sampled from one state share this; splits are made by it, never by sample."""
        return f"{self.provenance.trajectory}@{self.provenance.step}"

    def hint_sections(self) -> list[str]:
        return [s for m in self.messages for s in m.hint_sections()]
