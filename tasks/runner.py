"""Concurrent, resumable collection of trajectories: task set × trials × model × prompt preset.

Everything lands in one run directory::

    <run_dir>/config.yaml         the resolved config (+ git revision, seeds, model, endpoint)
    <run_dir>/trajectories.jsonl  one graded trajectory per episode, appended as each finishes
    <run_dir>/summary.json        per-group results (rewritten atomically at the end)

Re-running the same command skips the episodes already in ``trajectories.jsonl`` and runs the
rest, so a run killed at any moment (even SIGKILL) resumes without duplicates or torn records.
Episodes that ended in an outage (``llm_error``, ``workspace_error``) are run again unless
``retry_outages: false``; the newest record of an episode is the one reports count.

One process drives up to ``concurrency`` episodes from one event loop. Its CPU per LLM call (the
OpenAI SDK's request handling takes most of it) bounds how many calls per second it keeps up
with; ``processes: N`` shares the episodes among N collector processes (:mod:`tasks.shard`), each
with its own client, connections and workspace server (so each preloads the task's tools).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import Field
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agent.loop import AgentConfig, StepCallback
from agent.workspace import close_servers
from core.config import Config, dump_config, load_config, load_yaml, redact
from core.heap import frozen_heap
from core.llm.base import LLMClient
from core.llm.factory import ClientConfig
from core.revision import git_revision
from core.store import JsonlStore, write_atomic
from core.trajectory import Step, Trajectory
from tasks.asyncio_compat import run_sync
from tasks.experts import client_for
from tasks.registry import make_benchmark
from tasks.report import summarize
from tasks.task import Benchmark, PromptConfig, Task, TaskSet

log = logging.getLogger(__name__)

PRESETS_DIR = Path(__file__).parent / "presets"
OUTAGES = ("llm_error", "workspace_error")  # endpoint or workspace failures: not the model's doing


class TaskSelection(Config):
    benchmark: str = "toolqa"
    data: str | None = None  # benchmark data: a corpus root, or "tiny"/"standard" for ToolQA-mini
    splits: list[str] | None = None
    groups: list[str] | None = None
    templates: list[str] | None = None
    per_template: int | None = None  # sample at most this many tasks per template
    limit: int | None = None  # then at most this many tasks overall
    seed: int = 0


class CollectConfig(Config):
    run_dir: Path
    preset: str = "custom"
    tasks: TaskSelection = Field(default_factory=TaskSelection)
    prompt: PromptConfig = Field(default_factory=PromptConfig)
    trials: int = 1
    client: ClientConfig = Field(default_factory=lambda: ClientConfig(backend="scripted-expert"))
    agent: AgentConfig = Field(default_factory=AgentConfig)
    concurrency: int = 64
    processes: int = Field(1, ge=1, description="collector processes sharing the episodes and the concurrency")
    retry_outages: bool = Field(True, description="on resume, run again the episodes that ended in llm_error "
                                                  "or workspace_error (the endpoint's or workspace's fault)")
    wandb: bool = False


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def describe_preset(name: str) -> str:
    """One line: the preset's name, trials, sampling (temperature, min_p, seed) and its comment."""
    file = PRESETS_DIR / f"{name}.yaml"
    data = load_yaml(file)
    agent = AgentConfig.model_validate(data.get("agent", {}))
    comment = file.read_text().splitlines()[0].lstrip("# ")
    sampling = f"{agent.sampling or 'custom'} (T={agent.temperature}, min_p={agent.min_p}, seed={agent.seed})"
    return f"{name:26s} trials={data.get('trials', 1)} {sampling:46s} {comment}"


def load_collect_config(preset: str | None = None, path: str | Path | None = None,
                        overrides: Sequence[str] = (), updates: dict[str, Any] | None = None) -> CollectConfig:
    """Preset (one word, see ``tasks/presets/``), then a config file, then ``updates`` (a nested dict
    of Python values), then ``key=value`` overrides."""
    base: dict[str, Any] = {}
    if preset:
        file = PRESETS_DIR / f"{preset}.yaml"
        if not file.exists():
            raise FileNotFoundError(f"unknown preset {preset!r}; choose from {', '.join(preset_names())}")
        base = load_yaml(file)
        base["preset"] = preset
    return load_config(CollectConfig, path, overrides, base=base, updates=updates)


def select_tasks(benchmark: Benchmark, sel: TaskSelection) -> TaskSet:
    ts = TaskSet(benchmark.tasks()).filter(groups=sel.groups, templates=sel.templates, splits=sel.splits)
    if sel.per_template:
        ts = ts.sample(sel.per_template, seed=sel.seed, per="template")
    if sel.limit:
        ts = ts.sample(sel.limit, seed=sel.seed)
    return ts


def _record_config(config: CollectConfig) -> None:
    meta = {"git_revision": git_revision(), "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    text = dump_config(config) + "\n# provenance\n" + "\n".join(f"# {k}: {v}" for k, v in meta.items()) + "\n"
    write_atomic(config.run_dir / "config.yaml", text)


def episode_seed(seed: int, task_id: str, trial: int) -> int:
    """The sampling seed of one episode: stable across runs and processes, distinct per task and trial."""
    digest = hashlib.sha256(f"{seed}|{task_id}|{trial}".encode()).digest()
    return int.from_bytes(digest[:4], "big") >> 1


async def _run_one(benchmark: Benchmark, task: Task, trial: int, config: CollectConfig,
                   client: LLMClient, episodes_dir: Path, on_step: StepCallback | None = None) -> Trajectory:
    spec = benchmark.episode(task, config.prompt, trial)
    spec.meta.setdefault("preset", config.preset)
    episode_dir = None
    if benchmark.keeps_episode_dir:
        episode_dir = episodes_dir / f"{task.id.replace('/', '_')}#{trial}"
        shutil.rmtree(episode_dir, ignore_errors=True)  # left over by an attempt that was killed
        episode_dir.mkdir(parents=True)
        spec.workdir = str(episode_dir)
    agent = config.agent
    if agent.seed is not None:
        agent = agent.model_copy(update={"seed": episode_seed(agent.seed, task.id, trial)})
        spec.meta["seed"] = agent.seed
    traj = await benchmark.play(spec, client, agent, on_step)
    if traj.outcome.termination == "completed":
        traj.outcome.score, why = await benchmark.evaluate(task, traj.outcome.answer,
                                                           str(episode_dir) if episode_dir else None)
        traj.outcome.detail = why or traj.outcome.detail
    traj.meta.update(preset=config.preset, endpoint=redact(",".join(config.client.base_urls or [])),
                     collector_pid=os.getpid())
    return traj


async def collect_async(config: CollectConfig, client: LLMClient | None = None,
                        benchmark: Benchmark | None = None, show_progress: bool = True) -> Path:
    """Run every missing episode of ``config``; return the run directory.

    With ``config.processes > 1`` the episodes (and the concurrency) are shared out among that many
    collector processes (:mod:`tasks.shard`), each with its own LLM client and workspace server;
    they append to the same ``trajectories.jsonl`` and report each finished episode here. The
    client and benchmark are then built from the config in each process, so none may be passed.
    """
    if config.processes > 1 and (client is not None or benchmark is not None):
        raise ValueError("processes > 1 builds the client and the benchmark from the config in every "
                         "collector process; pass neither (or set processes=1)")
    if config.processes > 1 and config.client.backend == "hf-local":
        raise ValueError("processes > 1 with client.backend=hf-local would load the model once per process; "
                         "serve it (mnm serve) and use a vllm-* backend, or set processes=1")
    if config.processes > config.concurrency:
        raise ValueError(f"processes ({config.processes}) exceeds concurrency ({config.concurrency}): "
                         "each collector process needs at least one episode slot")
    if config.agent.sampling == "reference":
        log.warning("sampling=reference (min_p 0.7 at the server's default temperature) is nearly greedy and "
                    "depends on the server version: trials will differ little")
    run_dir = config.run_dir
    benchmark = benchmark or make_benchmark(config.tasks.benchmark, config.tasks.data, config.tasks.groups)
    todo = pending(config, benchmark)  # checks the benchmark's data before anything is written
    run_dir.mkdir(parents=True, exist_ok=True)
    _record_config(config)
    tracker = _Tracker(config) if config.wandb else None

    solved = finished = 0
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("success {task.fields[rate]}"), TextColumn("steps {task.fields[steps]}"),
                  TimeElapsedColumn(), disable=not show_progress) as progress:
        bar = progress.add_task(config.preset, total=len(todo), rate="-", steps="-")
        steps = 0

        def step_done(traj: Trajectory, step: Step) -> None:  # episodes in this process only
            nonlocal steps
            steps += 1
            progress.update(bar, steps=steps)

        def done(success: bool, row: list[Any]) -> None:
            nonlocal solved, finished
            finished += 1
            solved += success
            progress.update(bar, advance=1, rate=f"{solved / finished:.1%}")
            if tracker:
                tracker.add(row)

        if config.processes > 1:
            await _run_in_processes(config, todo, done)
        else:
            await run_episodes(config, benchmark, client or client_for(config.client, benchmark), todo, done,
                               step_done)
    summary = summarize([run_dir])
    write_atomic(run_dir / "summary.json", json.dumps(summary, indent=2))
    if tracker:
        tracker.finish(summary)
    return run_dir


def pending(config: CollectConfig, benchmark: Benchmark) -> list[tuple[Task, int]]:
    """The (task, trial) episodes of ``config`` not yet in its ``trajectories.jsonl`` (nor, with
    ``retry_outages``, ended there by an outage)."""
    latest = JsonlStore(config.run_dir / "trajectories.jsonl", Trajectory).latest_by_key()
    done = {key for key, t in latest.items()
            if not (config.retry_outages and t.outcome.termination in OUTAGES)}
    return [(t, k) for t, k in select_tasks(benchmark, config.tasks).trials(config.trials) if f"{t.id}#{k}" not in done]


EpisodeDone = Callable[[bool, list[Any]], None]


async def run_episodes(config: CollectConfig, benchmark: Benchmark, client: LLMClient,
                       todo: Sequence[tuple[Task, int]], done: EpisodeDone,
                       on_step: StepCallback | None = None) -> None:
    """Run ``todo`` with ``config.concurrency`` episodes in flight in this process, appending each
    graded trajectory as it finishes and then calling ``done(success, episode_row)`` (and
    ``on_step`` after every step); then close the client and the workspace servers."""
    store = JsonlStore(config.run_dir / "trajectories.jsonl", Trajectory)
    sem = asyncio.Semaphore(config.concurrency)

    async def one(task: Task, trial: int) -> None:
        async with sem:
            traj = await _run_one(benchmark, task, trial, config, client, config.run_dir / "episodes", on_step)
        await asyncio.to_thread(store.append, traj)  # its fsync must not stall the other episodes
        done(traj.outcome.success, episode_row(traj))

    try:
        with frozen_heap():
            await asyncio.gather(*(one(t, k) for t, k in todo))
    finally:
        await client.aclose()
        await close_servers()


async def _run_in_processes(config: CollectConfig, todo: Sequence[tuple[Task, int]], done: EpisodeDone) -> None:
    """Share ``todo`` round-robin among ``config.processes`` collector processes and relay what they report."""
    shares = [todo[i::config.processes] for i in range(config.processes)]
    procs: list[asyncio.subprocess.Process] = []
    try:
        for i, share in enumerate(shares):
            proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "tasks.shard",
                                                        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
            procs.append(proc)
            job = {"config": shard_config(config, i).model_dump(mode="json"), "parent": os.getpid(),
                   "episodes": [f"{t.id}#{k}" for t, k in share]}
            proc.stdin.write(json.dumps(job).encode())
            proc.stdin.close()
        await asyncio.gather(*(_relay(proc, done) for proc in procs))
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    failed = [f"process {i} exited with code {p.returncode}" for i, p in enumerate(procs) if p.returncode]
    if failed:
        raise RuntimeError(f"collector {', '.join(failed)} (see its traceback above); the episodes that "
                           f"finished are saved in {config.run_dir}: run again to finish the rest")


async def _relay(proc: asyncio.subprocess.Process, done: EpisodeDone) -> None:
    while (line := await proc.stdout.readline()).endswith(b"\n"):  # not a report cut by the process's death
        report = json.loads(line)
        done(report["success"], report["row"])
    await proc.wait()


def shard_config(config: CollectConfig, index: int) -> CollectConfig:
    """The config of collector process ``index``: its share of the episode slots and of the calls
    in flight per endpoint (shares differ by at most one; each is at least one)."""
    def share(total: int) -> int:
        return max(1, total // config.processes + (index < total % config.processes))

    client = config.client.model_copy(update={"max_concurrency": share(config.client.max_concurrency)})
    return config.model_copy(update={"concurrency": share(config.concurrency), "processes": 1, "client": client,
                                     "wandb": False})


def collect(config: CollectConfig, client: LLMClient | None = None, benchmark: Benchmark | None = None,
            show_progress: bool = True) -> Path:
    """Synchronous wrapper of :func:`collect_async` (works in scripts and in IPython cells)."""
    return run_sync(collect_async(config, client, benchmark, show_progress))


def episode_row(t: Trajectory) -> list[Any]:
    """One episode's row of the tracked table (columns as in :class:`_Tracker`)."""
    return [t.task_id, t.trial, t.group, t.template, t.outcome.score, t.outcome.termination, len(t.steps),
            t.usage.input_tokens, t.usage.output_tokens]


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

    def add(self, row: list[Any]) -> None:
        self.table.add_data(*row)

    def finish(self, summary: dict[str, Any]) -> None:
        for run in summary["runs"]:
            self.run.log({f"success/{g}": v["mean"] for g, v in run["groups"].items()})
        self.run.log({"episodes": self.table})
        self.run.finish()
