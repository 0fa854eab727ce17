"""Concurrent, resumable collection of trajectories: task set × trials × model × prompt preset.

Everything lands in one run directory::

    <run_dir>/config.yaml         the resolved config (+ git revision, seeds, model, endpoint)
    <run_dir>/trajectories.jsonl  one graded trajectory per episode, appended as each finishes
    <run_dir>/summary.json        per-group results (rewritten atomically at the end)

Re-running the same command skips the episodes already in ``trajectories.jsonl`` and runs the
rest, so a run killed at any moment (even SIGKILL) resumes without duplicates or torn records.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agent.loop import AgentConfig, run_episode
from agent.workspace import close_servers
from core.config import dump_config, load_config, load_yaml
from core.heap import frozen_heap
from core.llm.base import LLMClient
from core.llm.factory import ClientConfig
from core.store import JsonlStore, write_atomic
from core.trajectory import Trajectory
from tasks.asyncio_compat import run_sync
from tasks.experts import client_for
from tasks.registry import make_benchmark
from tasks.report import summarize
from tasks.task import Benchmark, PromptConfig, Task, TaskSet

log = logging.getLogger(__name__)

PRESETS_DIR = Path(__file__).parent / "presets"


class TaskSelection(BaseModel):
    benchmark: str = "toolqa"
    data: str | None = None  # benchmark data: a corpus root, or "tiny"/"standard" for ToolQA-mini
    splits: list[str] | None = None
    groups: list[str] | None = None
    templates: list[str] | None = None
    per_template: int | None = None  # sample at most this many tasks per template
    limit: int | None = None  # then at most this many tasks overall
    seed: int = 0


class CollectConfig(BaseModel):
    run_dir: Path
    preset: str = "custom"
    tasks: TaskSelection = Field(default_factory=TaskSelection)
    prompt: PromptConfig = Field(default_factory=PromptConfig)
    trials: int = 1
    client: ClientConfig = Field(default_factory=lambda: ClientConfig(backend="scripted-expert"))
    agent: AgentConfig = Field(default_factory=AgentConfig)
    concurrency: int = 64
    wandb: bool = False


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def load_collect_config(preset: str | None = None, path: str | Path | None = None,
                        overrides: Sequence[str] = ()) -> CollectConfig:
    """Preset (one word, see ``tasks/presets/``), then a config file, then ``key=value`` overrides."""
    base: dict[str, Any] = {}
    if preset:
        file = PRESETS_DIR / f"{preset}.yaml"
        if not file.exists():
            raise FileNotFoundError(f"unknown preset {preset!r}; choose from {', '.join(preset_names())}")
        base = load_yaml(file)
        base["preset"] = preset
    return load_config(CollectConfig, path, overrides, base=base)


def select_tasks(benchmark: Benchmark, sel: TaskSelection) -> TaskSet:
    ts = TaskSet(benchmark.tasks()).filter(groups=sel.groups, templates=sel.templates, splits=sel.splits)
    if sel.per_template:
        ts = ts.sample(sel.per_template, seed=sel.seed, per="template")
    if sel.limit:
        ts = ts.sample(sel.limit, seed=sel.seed)
    return ts


def git_revision() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).parent)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def _record_config(config: CollectConfig) -> None:
    meta = {"git_revision": git_revision(), "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    text = dump_config(config) + "\n# provenance\n" + "\n".join(f"# {k}: {v}" for k, v in meta.items()) + "\n"
    write_atomic(config.run_dir / "config.yaml", text)


async def _run_one(benchmark: Benchmark, task: Task, trial: int, config: CollectConfig,
                   client: LLMClient, episodes_dir: Path) -> Trajectory:
    spec = benchmark.episode(task, config.prompt, trial)
    spec.meta.setdefault("preset", config.preset)
    episode_dir = None
    if benchmark.keeps_episode_dir:
        episode_dir = episodes_dir / f"{task.id.replace('/', '_')}#{trial}"
        shutil.rmtree(episode_dir, ignore_errors=True)  # left over by an attempt that was killed
        episode_dir.mkdir(parents=True)
        spec.workdir = str(episode_dir)
    traj = await run_episode(spec, client, config.agent, detach_teardown=True)  # close_servers waits
    if traj.outcome.termination == "completed":
        traj.outcome.score = benchmark.grade(task, traj.outcome.answer, str(episode_dir) if episode_dir else None)
    traj.meta.update(preset=config.preset, endpoint=",".join(config.client.base_urls or []))
    return traj


async def collect_async(config: CollectConfig, client: LLMClient | None = None,
                        benchmark: Benchmark | None = None, show_progress: bool = True) -> Path:
    """Run every missing episode of ``config``; return the run directory."""
    run_dir = config.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    _record_config(config)
    benchmark = benchmark or make_benchmark(config.tasks.benchmark, config.tasks.data, config.tasks.groups)
    tasks = select_tasks(benchmark, config.tasks)
    store = JsonlStore(run_dir / "trajectories.jsonl", Trajectory)
    done = store.keys()
    todo = [(t, k) for t, k in tasks.trials(config.trials) if f"{t.id}#{k}" not in done]
    client = client or client_for(config.client, benchmark)
    tracker = _Tracker(config) if config.wandb else None

    sem = asyncio.Semaphore(config.concurrency)
    solved = finished = 0
    with frozen_heap(), Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("success {task.fields[rate]}"), TimeElapsedColumn(),
                  disable=not show_progress) as progress:
        bar = progress.add_task(config.preset, total=len(todo), rate="-")

        async def one(task: Task, trial: int) -> None:
            nonlocal solved, finished
            async with sem:
                traj = await _run_one(benchmark, task, trial, config, client, run_dir / "episodes")
            await asyncio.to_thread(store.append, traj)  # its fsync must not stall the other episodes
            finished += 1
            solved += traj.outcome.success
            progress.update(bar, advance=1, rate=f"{solved / finished:.1%}")
            if tracker:
                tracker.episode(traj)

        await asyncio.gather(*(one(t, k) for t, k in todo))
    summary = summarize([run_dir])
    write_atomic(run_dir / "summary.json", json.dumps(summary, indent=2))
    if tracker:
        tracker.finish(summary)
    await client.aclose()
    await close_servers()
    return run_dir


def collect(config: CollectConfig, client: LLMClient | None = None, benchmark: Benchmark | None = None,
            show_progress: bool = True) -> Path:
    """Synchronous wrapper of :func:`collect_async` (works in scripts and in IPython cells)."""
    return run_sync(collect_async(config, client, benchmark, show_progress))


class _Tracker:
    """Optional wandb logging: run config, one row per episode, per-group metrics at the end."""

    def __init__(self, config: CollectConfig) -> None:
        import wandb

        from core.settings import get_settings

        s = get_settings()
        self.wandb = wandb
        self.run = wandb.init(project=s.wandb_project, mode=s.wandb_mode, name=config.run_dir.name,
                              config=config.model_dump(mode="json"), dir=str(config.run_dir))
        self.table = wandb.Table(columns=["task", "trial", "group", "template", "score", "termination",
                                          "steps", "input_tokens", "output_tokens"])

    def episode(self, t: Trajectory) -> None:
        self.table.add_data(t.task_id, t.trial, t.group, t.template, t.outcome.score, t.outcome.termination,
                            len(t.steps), t.usage.input_tokens, t.usage.output_tokens)

    def finish(self, summary: dict[str, Any]) -> None:
        for run in summary["runs"]:
            self.run.log({f"success/{g}": v["mean"] for g, v in run["groups"].items()})
        self.run.log({"episodes": self.table})
        self.run.finish()
