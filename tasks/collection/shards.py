"""Sharing a collection's episodes among collector processes (``CollectConfig.processes > 1``).

:func:`run_in_processes` starts each collector process as ``python -m tasks.collection.shards``
and writes its job to its stdin, one JSON object: ``{"config": ..., "episodes": ["task_id#trial",
...], "parent": pid}``. The process (:func:`main`) runs those episodes with
:func:`tasks.collection.episodes.run_episodes` (skipping any already saved) and writes one JSON line
per finished episode to the stdout it was started with: ``{"success": bool, "row": [...]}``, which
the parent relays to its progress bar. Whatever else the process prints goes to stderr. It dies
with its parent (``PR_SET_PDEATHSIG``): a collector killed even with SIGKILL leaves no collector
process behind, and the workspace servers of this one then kill their workers.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from tasks.collection.config import CollectConfig
from tasks.collection.episodes import EpisodeDone, pending, run_episodes
from tasks.experts import client_for
from tasks.registry import make_benchmark
from tasks.task import Task

_PR_SET_PDEATHSIG = 1


async def run_in_processes(config: CollectConfig, todo: Sequence[tuple[Task, int]], done: EpisodeDone) -> None:
    """Share ``todo`` round-robin among ``config.processes`` collector processes and relay what they report."""
    shares = [todo[i::config.processes] for i in range(config.processes)]
    procs: list[asyncio.subprocess.Process] = []
    try:
        for i, share in enumerate(shares):
            proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "tasks.collection.shards",
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


def main() -> int:
    """One collector process: read the job from stdin, run its episodes, report each on stdout."""
    job = json.load(sys.stdin)
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != job["parent"]:  # the parent died before the line above
        return 1
    reports = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints must not corrupt the reports

    def done(success: bool, row: list[Any]) -> None:
        reports.write(json.dumps({"success": success, "row": row}) + "\n")

    config = CollectConfig.model_validate(job["config"])
    benchmark = make_benchmark(config.tasks.benchmark, config.tasks.data, config.tasks.groups)
    wanted = set(job["episodes"])
    todo = [(t, k) for t, k in pending(config, benchmark) if f"{t.id}#{k}" in wanted]
    asyncio.run(run_episodes(config, benchmark, client_for(config.client, benchmark), todo, done))
    return 0


if __name__ == "__main__":
    sys.exit(main())
