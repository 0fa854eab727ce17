"""The benchmark-independent task model and task sets.

A :class:`Task` is one question or job: its text, gold answer, grader, tools, budget and the hint
sections that apply to it. A :class:`Benchmark` knows how to turn a task into an
:class:`agent.episode.EpisodeSpec` under a prompt configuration and how to grade an answer.
:class:`TaskSet` filters, samples and repeats tasks for the runner.
"""

from __future__ import annotations

import abc
import random
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, Field

from agent.episode import EpisodeSpec
from agent.prompt import task_message
from core.config import Config
from core.messages import HintSet

if TYPE_CHECKING:
    from agent.loop import AgentConfig, StepCallback
    from core.llm.base import LLMClient
    from core.trajectory import Trajectory

ToolDocs = Literal["none", "short", "long"]
SplitRole = Literal["train", "val", "test"]


class PromptConfig(Config):
    """Which hints and tool documentation the agent's prompt carries.

    ``hints``: ``none``, ``task`` (task-specific: the group's hints, the paper's teacher) or
    ``combined`` (every group's hints in one prompt, the paper's prompting baseline) or
    ``combined-seen`` (``combined`` without the hints written for held-out templates).
    ``toolset``: ``relevant`` (the group's tools) or ``all`` (other groups' tools present but inert).
    """

    name: str = "none"
    hints: Literal["none", "task", "combined", "combined-seen"] = "none"
    tool_docs: ToolDocs = "none"
    toolset: Literal["relevant", "all"] = "relevant"


class Task(BaseModel):
    id: str
    benchmark: str
    group: str = ""
    template: str = ""
    split: str = ""
    question: str
    answer: Any = None
    answer_type: str = "str"
    max_steps: int = 10
    meta: dict[str, Any] = Field(default_factory=dict)


class Benchmark(abc.ABC):
    """A family of tasks with its tools, hints and grader."""

    name: str
    keeps_episode_dir: bool = False  # grading reads the episode's files: the runner keeps its workdir
    # the role of each split; "test" splits are evaluation-only: no training example may come from them
    split_roles: ClassVar[dict[str, SplitRole]] = {}

    @abc.abstractmethod
    def tasks(self) -> list[Task]:
        """Every task of the benchmark (all splits)."""

    @abc.abstractmethod
    def episode(self, task: Task, prompt: PromptConfig, trial: int = 0) -> EpisodeSpec:
        """The agent's view of ``task`` under ``prompt``."""

    @abc.abstractmethod
    def grade(self, task: Task, answer: Any, episode_dir: str | None = None) -> float:
        """Score in [0, 1]; 1 means solved."""

    async def evaluate(self, task: Task, answer: Any, episode_dir: str | None = None) -> tuple[float, str]:
        """Score and, for a failure worth explaining, why (the runner's grading; benchmarks whose
        grading runs code, in a workspace, override it)."""
        return self.grade(task, answer, episode_dir), ""

    async def play(self, spec: EpisodeSpec, client: LLMClient, agent: AgentConfig,
                   on_step: StepCallback | None = None) -> Trajectory:
        """One episode of ``spec``: the agent loop (benchmarks that ask the model once override it);
        ``on_step`` is called as each step completes."""
        from agent.loop import run_episode

        return await run_episode(spec, client, agent, on_step, detach_teardown=True)  # the runner's close_servers waits

    def hints(self, task: Task, prompt: PromptConfig) -> HintSet:
        """The hint sections of ``task``'s prompt under ``prompt``."""
        return self.episode(task, prompt).hints

    def expert(self, task: Task) -> list[Any]:
        """A known-good solution as ``agent.scripted.ExpertStep``s (monologue, code); benchmarks that have one override."""
        raise NotImplementedError(f"{self.name} has no expert solutions")

    def expert_index(self) -> dict[str, list[Any]]:
        """Expert solutions keyed by the task message the agent sends (how a scripted expert finds its task)."""
        index = {}
        for t in self.tasks():
            spec = self.episode(t, PromptConfig())
            index[task_message(spec.description, spec.answer_type).text] = self.expert(t)
        return index


class TaskSet:
    """An ordered selection of tasks; every operation returns a new set."""

    def __init__(self, tasks: Iterable[Task]) -> None:
        self.tasks = list(tasks)

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks)

    def __len__(self) -> int:
        return len(self.tasks)

    def filter(self, *, groups: Sequence[str] | None = None, templates: Sequence[str] | None = None,
               splits: Sequence[str] | None = None, ids: Sequence[str] | None = None) -> TaskSet:
        def ok(t: Task) -> bool:
            return ((groups is None or t.group in groups)
                    and (templates is None or t.template in templates)
                    and (splits is None or t.split in splits)
                    and (ids is None or t.id in ids))
        return TaskSet(t for t in self.tasks if ok(t))

    def sample(self, n: int | None, seed: int = 0, per: Literal["all", "template", "group"] = "all") -> TaskSet:
        """At most ``n`` tasks overall, or per template / per group, chosen with ``seed``."""
        if n is None:
            return TaskSet(self.tasks)
        rng = random.Random(seed)
        if per == "all":
            return TaskSet(rng.sample(self.tasks, min(n, len(self.tasks))))
        buckets: dict[str, list[Task]] = {}
        for t in self.tasks:
            buckets.setdefault(t.template if per == "template" else t.group, []).append(t)
        chosen = {id(t) for b in buckets.values() for t in rng.sample(b, min(n, len(b)))}
        return TaskSet(t for t in self.tasks if id(t) in chosen)

    def trials(self, n: int) -> list[tuple[Task, int]]:
        """Each task repeated ``n`` times, as ``(task, trial)`` pairs."""
        return [(t, k) for k in range(n) for t in self.tasks]
