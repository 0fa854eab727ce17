"""OfficeBench as a :class:`tasks.task.Benchmark`: episode specs and grading on the episode's testbed."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from agent.episode import EpisodeSpec, ToolSpec
from agent.scripted import ExpertStep
from core.messages import HintSet
from core.rundir import episode_name
from tasks.officebench.apps import apps_of, tools_of
from tasks.officebench.evaluator import Errata, Report, evaluate
from tasks.officebench.hints import combined_hints, task_hints
from tasks.officebench.solutions import expert_steps
from tasks.officebench.subtasks import BENCHMARK, MAX_STEPS, SPLITS, all_tasks, subtask_by_id
from tasks.officebench.tools import ALL_TOOLS, OfficeTools, tool_doc, write_answer
from tasks.task import Benchmark, PromptConfig, Task

TOOLS_MODULE = "tasks.officebench.tools"
DATA_PATH_NOTE = (
    "\nYour files are in the folder given by the variable `data_path` (already defined); mail folders are "
    "in `<data_path>/../emails/<user>` and calendars in `<data_path>/../calendar/<user>.ics`. Use "
    "`os.path.join(data_path, ...)` for every file."
)


def short_doc(name: str) -> str:
    """Signature and the first sentence of the tool's docstring."""
    first = (inspect.getdoc(getattr(OfficeTools, name)) or "").split(". ")[0].split("\n")[0]
    return tool_doc(name).split("\n")[0] + f"\n    {first.rstrip('.')}."


class OfficeBenchmark(Benchmark):
    name = BENCHMARK
    keeps_episode_dir = True
    split_roles = {name: name for name, _ in SPLITS}  # type: ignore[misc]

    def __init__(self, errata: Errata = "corrected") -> None:
        self.errata = errata

    def tasks(self) -> list[Task]:
        return list(all_tasks())

    def episode(self, task: Task, prompt: PromptConfig, trial: int = 0) -> EpisodeSpec:
        sub = subtask_by_id(task.id)
        apps = apps_of(sub)
        tools = tools_of(apps) if prompt.toolset == "relevant" else ALL_TOOLS
        hints = {"none": HintSet(name="none"), "task": task_hints(apps), "combined": combined_hints(),
                 "combined-seen": combined_hints()}[prompt.hints]  # OfficeBench holds no template out
        docs = {"none": "", "short": "\n".join(short_doc(n) for n in tools),
                "long": "\n\n".join(tool_doc(n) for n in tools)}[prompt.tool_docs]
        return EpisodeSpec(
            task_id=task.id, description=task.question + DATA_PATH_NOTE, answer_type=task.answer_type,
            hints=hints, tool_docs=docs, tool_docs_mode=prompt.tool_docs, max_steps=MAX_STEPS,
            tools=ToolSpec(bind=f"{TOOLS_MODULE}:bind", preload=f"{TOOLS_MODULE}:preload"),
            episode_kwargs={**self.episode_kwargs(task), "tools": list(tools)},
            trial=trial, group=task.group, template=task.template, split=task.split,
            meta={**task.meta, "apps": apps},
        )

    @staticmethod
    def episode_path(root: str | Path, task: Task, trial: int) -> Path:
        """A private directory for one attempt under ``root`` (give it to ``bind`` and ``grade``)."""
        return Path(root) / episode_name(task.id, trial)

    def episode_kwargs(self, task: Task) -> dict[str, Any]:
        """What :func:`tasks.officebench.tools.bind` needs besides the episode directory."""
        return {"folder": task.template, "errata": self.errata}

    def report(self, task: Task, answer: Any, episode_dir: str | Path | None) -> Report:
        """Per-check results for the testbed in ``<episode_dir>/testbed``; a non-None ``answer`` is
        first written to ``data/answer.txt`` (the reference ``complete_task`` does the same)."""
        if episode_dir is None:
            raise ValueError("OfficeBench grades an episode's files: episode_dir is required")
        testbed = Path(episode_dir) / "testbed"
        if not testbed.is_dir():
            raise ValueError(f"no testbed in {episode_dir}: each episode needs its own directory, the "
                             "workspace's workdir (the only one a confined worker can write) and passed to grade")
        if answer is not None:
            write_answer(testbed, answer)
        return evaluate(subtask_by_id(task.id), testbed, self.errata)

    def grade(self, task: Task, answer: Any, episode_dir: str | None = None) -> float:
        return 1.0 if self.report(task, answer, episode_dir).passed else 0.0

    def expert(self, task: Task) -> list[ExpertStep]:
        return expert_steps(task.id)
