"""State–action–hint training examples (one JSON line each) and their JSONL files.

An example is a conversation whose last assistant messages are *targets* (the action: the final
monologue and code). Context messages keep their parts' visibility marks, so training can render
the teacher's view (all hint sections) and the student's view (hint sections dropped) over the
same target tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from core.errors import DataError
from core.messages import Message
from core.store import read_jsonl, write_atomic


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


def write_examples(path: str | Path, examples: Sequence[Example]) -> Path:
    """Replace ``path`` (atomically) with one JSON line per example; return it."""
    write_atomic(path, "".join(e.model_dump_json() + "\n" for e in examples))
    return Path(path)


def read_examples(path: str | Path) -> list[Example]:
    """Every example of a JSONL file; a missing file or a bad line raises :class:`DataError` with
    file, line and field."""
    if not Path(path).exists():
        raise DataError("examples file not found", path=str(path))
    out = []
    for lineno, obj in read_jsonl(path):
        try:
            out.append(Example.model_validate(obj))
        except ValidationError as e:
            first = e.errors()[0]
            field = ".".join(str(x) for x in first["loc"]) or None
            raise DataError(first["msg"], path=str(path), line=lineno, field=field) from None
    return out
