"""Reference solving: every task's template expert solution, run by the agent in a real workspace.

Each task's expert steps (``Template.solution(slots)``: monologue + code, tools only) are replayed
through :func:`agent.loop.run_episode` by :func:`agent.scripted.replay_agent`, so the code
runs in the same sandboxed workspace, with the same preloaded tools, as a model's would; the
answer passed to ``complete_task`` is graded by the benchmark's grader. 100 % success means tools,
templates, generated data and graders agree. The same scripted episodes are the expert
trajectories used by tests and the demo.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from agent.loop import AgentConfig, run_episode
from agent.scripted import replay_agent
from agent.workspace import close_servers
from core.asyncio_compat import run_sync
from core.trajectory import Trajectory
from tasks.task import PromptConfig, Task
from tasks.toolqa.benchmark import ToolQABenchmark
from tasks.toolqa.build import ensure_toolqa_mini

EXPERT_PROMPT = PromptConfig(name="expert", hints="none", tool_docs="none", toolset="relevant")


@dataclass
class Failure:
    task_id: str
    expected: str
    got: object
    detail: str


@dataclass
class SolveReport:
    root: str
    split: str
    results: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # template -> scores
    failures: list[Failure] = field(default_factory=list)
    trajectories: list[Trajectory] = field(default_factory=list)

    @property
    def n(self) -> int:
        return sum(len(v) for v in self.results.values())

    @property
    def success_rate(self) -> float:
        return sum(sum(v) for v in self.results.values()) / max(1, self.n)

    def by_group(self) -> dict[str, tuple[int, float]]:
        groups: dict[str, list[float]] = defaultdict(list)
        for template, scores in self.results.items():
            groups[template.split("/")[0]] += scores
        return {g: (len(s), sum(s) / len(s)) for g, s in sorted(groups.items())}

    def table(self) -> str:
        lines = [f"reference solver on {self.root} ({self.split}): {self.n} tasks, "
                 f"success {100 * self.success_rate:.1f} %"]
        for group, (n, rate) in self.by_group().items():
            lines.append(f"  {group:<8} {n:>4} tasks  {100 * rate:5.1f} %")
            for template, scores in sorted(self.results.items()):
                if template.startswith(f"{group}/") and sum(scores) < len(scores):
                    lines.append(f"    {template:<46} {sum(scores):.0f}/{len(scores)}")
        for f in self.failures:
            lines.append(f"  FAIL {f.task_id}: expected {f.expected!r}, got {f.got!r} {f.detail}")
        return "\n".join(lines)


async def solve_task(bench: ToolQABenchmark, task: Task) -> Trajectory:
    """One expert episode, graded (the score is in ``trajectory.outcome.score``)."""
    spec = bench.episode(task, EXPERT_PROMPT)
    traj = await run_episode(spec, replay_agent(bench.expert(task)), AgentConfig())
    traj.outcome.score = bench.grade(task, traj.outcome.answer)
    return traj


async def solve_tasks(bench: ToolQABenchmark, tasks: list[Task], concurrency: int = 4) -> list[Trajectory]:
    gate = asyncio.Semaphore(concurrency)
    progress = tqdm(total=len(tasks), desc="reference solver", unit="task")

    async def one(task: Task) -> Trajectory:
        async with gate:
            traj = await solve_task(bench, task)
            progress.update()
            return traj
    try:
        return await asyncio.gather(*(one(t) for t in tasks))
    finally:
        progress.close()
        await close_servers()


def solve(root: str | Path | None = None, profile: str | None = None, split: str = "test",
          groups: list[str] | None = None, templates: list[str] | None = None, seed: int = 0,
          concurrency: int = 4, keep_trajectories: bool = False) -> SolveReport:
    """Run the expert solution of every task of ``split`` (optionally some groups/templates) and grade it.

    ``root`` is a corpus root; with ``profile`` (``tiny``/``standard``) a ToolQA-mini root is built
    (or reused) under the data directory instead. ``templates`` are template ids (``coffee/volume``).
    """
    if profile is not None:
        root = ensure_toolqa_mini(profile, seed)
    bench = ToolQABenchmark(root, splits=[split], groups=groups)
    tasks = [t for t in bench.tasks() if templates is None or t.template in templates]
    trajectories = run_sync(solve_tasks(bench, tasks, concurrency))
    report = SolveReport(root=str(bench.root), split=split)
    for task, traj in zip(tasks, trajectories, strict=True):
        report.results[task.template].append(traj.outcome.score)
        if traj.outcome.score < 1.0:
            last = traj.steps[-1].observation[-300:] if traj.steps else ""
            report.failures.append(Failure(task.id, task.answer, traj.outcome.answer,
                                           f"[{traj.outcome.termination}] {last}"))
    if keep_trajectories:
        report.trajectories = trajectories
    return report
