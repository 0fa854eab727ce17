"""ToolQA as a :class:`tasks.task.Benchmark`, on the real corpus or on a ToolQA-mini root.

Tasks come from the question files of the chosen splits (the vendored real ones, or the root's
own for a synthetic root), each matched to its template. An episode's task text is a generic
preamble, the question and the template's format tip (kept in no-hint runs too); its hints come
from the hint files (``tasks.toolqa.hints``), its tool docs from the tools' docstrings, and its
tools from a workspace that preloads the corpus once per benchmark (all episodes share one
``ToolSpec.preload_key``) and binds the task group's tools per episode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.episode import EpisodeSpec, ToolSpec
from agent.scripted import ExpertStep
from core.errors import DataError
from core.messages import HintSet
from core.settings import get_settings
from tasks.task import Benchmark, PromptConfig, Task
from tasks.toolqa.build import PROFILES, ensure_toolqa_mini
from tasks.toolqa.corpus import Corpus
from tasks.toolqa.graders import REAL_ALTERNATIVES, REAL_SET_COMPARED, grade
from tasks.toolqa.hints import hint_set
from tasks.toolqa.questions import (
    GROUPS,
    SPLIT_ROLES,
    SPLITS,
    check_group,
    check_split,
    find_template,
    load_questions,
)
from tasks.toolqa.tools import tool_docs

PREAMBLE = ("Answer the question below. You work in a Python (iPython) environment in which the tools "
            "for this task are available as Python functions.")
MAX_STEPS = 10


class ToolQABenchmark(Benchmark):
    """The six ToolQA groups; ``root`` is a corpus root (default: ``TOOLQA_PATH``, the real corpus)."""

    name = "toolqa"
    split_roles = SPLIT_ROLES

    def __init__(self, root: str | Path | None = None, splits: list[str] | tuple[str, ...] | None = None,
                 groups: list[str] | tuple[str, ...] | None = None, retriever_model: str | None = None) -> None:
        root = root if root is not None else get_settings().toolqa_path
        self.root = Path(root).resolve() if root is not None else None
        self.splits = tuple(check_split(s) for s in (splits or SPLITS))
        self.groups = tuple(check_group(g) for g in (groups or GROUPS))
        self.retriever_model = retriever_model
        self.synthetic = self.root is not None and (self.root / "manifest.json").exists()
        self._tasks: list[Task] | None = None

    def tasks(self) -> list[Task]:
        """The questions of the splits and groups; first checks that the corpus holds every file
        they need, so a partial corpus fails here, naming the missing file, before any LLM call."""
        if self._tasks is None:
            if self.root is not None:
                Corpus(self.root).check(self.groups)
            self._tasks = [self._task(q) for split in self.splits
                           for q in load_questions(split, self.root, self.groups)]
        return self._tasks

    @classmethod
    def from_data(cls, data: str | None, groups: list[str] | None = None) -> ToolQABenchmark:
        """``data``: ``tiny``/``standard`` (ToolQA-mini, built on first use), a corpus root, or
        ``None`` for ``TOOLQA_PATH``. Only ``groups`` are loaded into the workspaces."""
        if data in PROFILES:
            return cls(ensure_toolqa_mini(data), groups=groups)
        return cls(data, groups=groups)

    def expert(self, task: Task) -> list[ExpertStep]:
        """The template's known-good solution for this task's slots."""
        return find_template(task.group, task.template.split("/", 1)[1]).solution(task.meta["slots"])

    def _task(self, q: Any) -> Task:
        template = find_template(q.group, q.template)
        special = not self.synthetic
        return Task(
            id=f"toolqa/{q.split}/{q.qid}", benchmark=self.name, group=q.group, template=template.id,
            split=q.split, question=q.question, answer=q.answer, max_steps=MAX_STEPS,
            meta={"qid": q.qid, "type": q.type, "slots": q.slots, "source": q.where,
                  "format_tip": template.format_tip, "unseen": template.unseen,
                  "alternatives": list(REAL_ALTERNATIVES.get((q.group, q.qid), ())) if special else [],
                  "as_set": special and (q.group, q.qid) in REAL_SET_COMPARED},
        )

    def tool_spec(self) -> ToolSpec:
        """How workspaces get the tools: one preloaded server for all of this benchmark's groups."""
        if self.root is None:
            raise DataError("no ToolQA corpus: set TOOLQA_PATH or give a ToolQA-mini root")
        return ToolSpec(bind="tasks.toolqa.tools:bind", preload="tasks.toolqa.tools:preload",
                        preload_kwargs={"root": str(self.root), "groups": list(self.groups),
                                        "retriever_model": self.retriever_model})

    def description(self, task: Task) -> str:
        tip = task.meta.get("format_tip", "")
        return f"{PREAMBLE}\n\nQuestion: {task.question}" + (f"\n{tip}" if tip else "")

    def episode(self, task: Task, prompt: PromptConfig, trial: int = 0) -> EpisodeSpec:
        docs_for = task.group if prompt.toolset == "relevant" else "all"
        return EpisodeSpec(
            task_id=task.id, description=self.description(task), answer_type=task.answer_type,
            hints=self.hints(task, prompt),
            tool_docs=tool_docs(docs_for, prompt.tool_docs), tool_docs_mode=prompt.tool_docs,
            max_steps=task.max_steps, tools=self.tool_spec(),
            episode_kwargs={"group": task.group, "toolset": prompt.toolset},
            trial=trial, group=task.group, template=task.template, split=task.split,
            meta={"preset": prompt.name, "benchmark": self.name, "qid": task.meta["qid"]},
        )

    def hints(self, task: Task, prompt: PromptConfig) -> HintSet:
        return hint_set(prompt.hints, task.group, task.template)

    def grade(self, task: Task, answer: Any, episode_dir: str | None = None) -> float:
        return grade(task.group, task.meta["type"], answer, task.answer,
                     alternatives=tuple(task.meta.get("alternatives", ())), as_set=task.meta.get("as_set", False))
