"""Filters as data: one YAML file per mistake, with the corrective hint that fixes it.

A filter file names the mistake, says which tasks it applies to, how it is detected (a rule
implemented in :mod:`filters.rules`, or an LLM judge described by a mistake and worked examples)
and the hint the teacher gets when the mistake is found::

    name: unprinted-answer
    kind: rule                       # rule | judge
    description: Returns a value it never looked at.
    applies_to: {groups: [], templates: []}   # empty: every task
    rule: unprinted_answer           # a name in filters.rules.RULES
    args: {}                         # keyword arguments of the rule
    hint: |
      Print the value and check it before you return it with complete_task.

A judge file has ``judge:`` instead of ``rule``/``args`` (see :class:`JudgeSpec`). Unknown fields
are errors naming the file and the field.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.errors import DataError

LIBRARY = Path(__file__).parent / "library"


class AppliesTo(BaseModel):
    """Groups and templates (``group/name`` ids) a filter checks; empty lists mean all."""

    model_config = ConfigDict(extra="forbid")

    groups: list[str] = Field(default_factory=list)
    templates: list[str] = Field(default_factory=list)

    def matches(self, group: str, template: str) -> bool:
        return (not self.groups or group in self.groups) and (not self.templates or template in self.templates)


class WorkedExample(BaseModel):
    """One illustration for a judge: a situation, the verdict and why."""

    model_config = ConfigDict(extra="forbid")

    situation: str
    mistake: bool
    reasoning: str


class JudgeSpec(BaseModel):
    """An LLM judge: the mistake in words, worked examples, and what the judge is shown.

    ``prompt`` optionally replaces the default template of :mod:`filters.judge`; it may use
    ``{mistake}``, ``{examples}`` and ``{transcript}``.
    """

    model_config = ConfigDict(extra="forbid")

    mistake: str
    examples: list[WorkedExample] = Field(default_factory=list)
    show_outputs: bool = True
    prompt: str | None = None


class FilterSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    kind: Literal["rule", "judge"]
    description: str = ""
    applies_to: AppliesTo = Field(default_factory=AppliesTo)
    rule: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    judge: JudgeSpec | None = None
    hint: str
    source: str = Field("", exclude=True)  # the file it was loaded from

    @model_validator(mode="after")
    def _detector_matches_kind(self) -> FilterSpec:
        if self.kind == "rule" and (not self.rule or self.judge is not None):
            raise ValueError("a rule filter needs `rule` and no `judge`")
        if self.kind == "judge" and (self.judge is None or self.rule or self.args):
            raise ValueError("a judge filter needs `judge` and no `rule`/`args`")
        return self

    def digest(self) -> str:
        """Changes whenever the detection or the hint changes (recorded with each verdict)."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:12]


def load_filter(path: str | Path) -> FilterSpec:
    """Parse one filter file; any problem is a :class:`DataError` naming the file and field."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise DataError(f"invalid YAML: {getattr(e, 'problem', e)}", path=str(path),
                        line=mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise DataError("expected a mapping of filter fields", path=str(path))
    try:
        spec = FilterSpec.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(x) for x in first["loc"]) or None
        message = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
        raise DataError(message, path=str(path), field=field) from None
    if spec.kind == "rule":
        from filters.rules import RULES

        if spec.rule not in RULES:
            raise DataError(f"unknown rule {spec.rule!r}; known: {', '.join(sorted(RULES))}",
                            path=str(path), field="rule")
    spec.source = str(path)
    return spec


def load_filters(paths: Iterable[str | Path] = (LIBRARY / "toolqa",)) -> list[FilterSpec]:
    """Filters from files and directories (every ``*.yaml`` inside, sorted); names must be unique."""
    files: list[Path] = []
    for p in map(Path, paths):
        files += sorted(p.glob("*.yaml")) if p.is_dir() else [p]
    specs = [load_filter(f) for f in files]
    seen: dict[str, str] = {}
    for s in specs:
        if s.name in seen:
            raise DataError(f"filter name {s.name!r} already used by {seen[s.name]}", path=s.source, field="name")
        seen[s.name] = s.source
    return specs
