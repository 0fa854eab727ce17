"""One collection end to end: task set × trials × model × prompt preset, concurrent and resumable.

Everything lands in one run directory (:mod:`core.rundir`): the resolved config, one graded
trajectory per episode appended as each finishes, and the summary. Re-running the same command
skips the episodes already saved and runs the rest, so a run killed at any moment (even SIGKILL)
resumes without duplicates or torn records. Episodes that ended in an outage (``llm_error``,
``workspace_error``) are run again unless ``retry_outages: false``; the newest record of an
episode is the one reports count.

One process drives up to ``concurrency`` episodes from one event loop
(:mod:`tasks.collection.episodes`). Its CPU per LLM call (the OpenAI SDK's request handling takes
most of it) bounds how many calls per second it keeps up with; ``processes: N`` shares the episodes
among N collector processes (:mod:`tasks.collection.shards`), each with its own client,
connections and workspace server (so each preloads the task's tools).
"""

from __future__ import annotations

import json
from pathlib import Path

from core.asyncio_compat import run_sync
from core.llm.base import LLMClient
from core.rundir import SUMMARY, write_config
from core.store import write_atomic
from tasks.collection.config import CollectConfig, check_runnable
from tasks.collection.episodes import pending, run_episodes
from tasks.collection.report import summarize
from tasks.collection.shards import run_in_processes
from tasks.collection.tracking import Tracking
from tasks.experts import client_for
from tasks.registry import make_benchmark
from tasks.task import Benchmark


async def collect_async(config: CollectConfig, client: LLMClient | None = None,
                        benchmark: Benchmark | None = None, show_progress: bool = True) -> Path:
    """Run every missing episode of ``config``; return the run directory.

    With ``config.processes > 1`` the episodes (and the concurrency) are shared out among that many
    collector processes (:mod:`tasks.collection.shards`), each with its own LLM client and workspace
    server; they append to the same trajectories and report each finished episode here. The
    client and benchmark are then built from the config in each process, so none may be passed.
    """
    check_runnable(config, client, benchmark)
    run_dir = config.run_dir
    benchmark = benchmark or make_benchmark(config.tasks.benchmark, config.tasks.data, config.tasks.groups)
    todo = pending(config, benchmark)  # checks the benchmark's data before anything is written
    run_dir.mkdir(parents=True, exist_ok=True)
    write_config(run_dir, config)
    wandb_run = ({"name": run_dir.name, "config": config.model_dump(mode="json"), "directory": str(run_dir)}
                 if config.wandb else None)
    with Tracking(config.preset, len(todo), show_progress, wandb_run) as tracking:
        if config.processes > 1:
            await run_in_processes(config, todo, tracking.episode_done)
        else:
            await run_episodes(config, benchmark, client or client_for(config.client, benchmark), todo,
                               tracking.episode_done, tracking.step_done)
    summary = summarize([run_dir])
    write_atomic(run_dir / SUMMARY, json.dumps(summary, indent=2))
    tracking.finish(summary)
    return run_dir


def collect(config: CollectConfig, client: LLMClient | None = None, benchmark: Benchmark | None = None,
            show_progress: bool = True) -> Path:
    """Synchronous wrapper of :func:`collect_async` (works in scripts and in IPython cells)."""
    return run_sync(collect_async(config, client, benchmark, show_progress))
