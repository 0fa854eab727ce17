"""Running a collection's episodes in one process: up to ``concurrency`` in flight on one event
loop, each graded and appended to the run's trajectories as it finishes."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from collections.abc import Callable, Sequence
from typing import Any

from agent.loop import StepCallback
from agent.workspace import close_servers
from core.config import redact
from core.heap import frozen_heap
from core.llm.base import LLMClient
from core.rundir import episode_dir, trajectories
from core.trajectory import Trajectory
from tasks.collection.config import CollectConfig, select_tasks
from tasks.collection.tracking import episode_row
from tasks.task import Benchmark, Task

OUTAGES = ("llm_error", "workspace_error")  # endpoint or workspace failures: not the model's doing

EpisodeDone = Callable[[bool, list[Any]], None]


def episode_seed(seed: int, task_id: str, trial: int) -> int:
    """The sampling seed of one episode: stable across runs and processes, distinct per task and trial."""
    digest = hashlib.sha256(f"{seed}|{task_id}|{trial}".encode()).digest()
    return int.from_bytes(digest[:4], "big") >> 1


def pending(config: CollectConfig, benchmark: Benchmark) -> list[tuple[Task, int]]:
    """The (task, trial) episodes of ``config`` not yet in its run's trajectories (nor, with
    ``retry_outages``, ended there by an outage)."""
    latest = trajectories(config.run_dir).latest_by_key()
    done = {key for key, t in latest.items()
            if not (config.retry_outages and t.outcome.termination in OUTAGES)}
    return [(t, k) for t, k in select_tasks(benchmark, config.tasks).trials(config.trials) if f"{t.id}#{k}" not in done]


async def run_one(benchmark: Benchmark, task: Task, trial: int, config: CollectConfig,
                  client: LLMClient, on_step: StepCallback | None = None) -> Trajectory:
    """Play and grade one episode (its working directory kept in the run if the benchmark grades files)."""
    spec = benchmark.episode(task, config.prompt, trial)
    spec.meta.setdefault("preset", config.preset)
    workdir = None
    if benchmark.keeps_episode_dir:
        workdir = episode_dir(config.run_dir, task.id, trial)
        shutil.rmtree(workdir, ignore_errors=True)  # left over by an attempt that was killed
        workdir.mkdir(parents=True)
        spec.workdir = str(workdir)
    agent = config.agent
    if agent.seed is not None:
        agent = agent.model_copy(update={"seed": episode_seed(agent.seed, task.id, trial)})
        spec.meta["seed"] = agent.seed
    traj = await benchmark.play(spec, client, agent, on_step)
    if traj.outcome.termination == "completed":
        traj.outcome.score, why = await benchmark.evaluate(task, traj.outcome.answer,
                                                           str(workdir) if workdir else None)
        traj.outcome.detail = why or traj.outcome.detail
    traj.meta.update(preset=config.preset, endpoint=redact(",".join(config.client.base_urls or [])),
                     collector_pid=os.getpid())
    return traj


async def run_episodes(config: CollectConfig, benchmark: Benchmark, client: LLMClient,
                       todo: Sequence[tuple[Task, int]], done: EpisodeDone,
                       on_step: StepCallback | None = None) -> None:
    """Run ``todo`` with ``config.concurrency`` episodes in flight in this process, appending each
    graded trajectory as it finishes and then calling ``done(success, episode_row)`` (and
    ``on_step`` after every step); then close the client and the workspace servers."""
    store = trajectories(config.run_dir)
    sem = asyncio.Semaphore(config.concurrency)

    async def one(task: Task, trial: int) -> None:
        async with sem:
            traj = await run_one(benchmark, task, trial, config, client, on_step)
        await asyncio.to_thread(store.append, traj)  # its fsync must not stall the other episodes
        done(traj.outcome.success, episode_row(traj))

    try:
        with frozen_heap():
            await asyncio.gather(*(one(t, k) for t, k in todo))
    finally:
        await client.aclose()
        await close_servers()
