"""One collector process of a multi-process run (``CollectConfig.processes > 1``).

Started by :func:`tasks.runner.collect_async` as ``python -m tasks.shard``. It reads its job from
stdin, one JSON object: ``{"config": ..., "episodes": ["task_id#trial", ...], "parent": pid}``,
runs those episodes with :func:`tasks.runner.run_episodes` (skipping any already saved) and writes
one JSON line per finished episode to the stdout it was started with:
``{"success": bool, "row": [...]}``. Whatever else the process prints goes to stderr. It dies with
its parent (``PR_SET_PDEATHSIG``): a collector killed even with SIGKILL leaves no collector process
behind, and the workspace servers of this one then kill their workers.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import signal
import sys
from typing import Any

from tasks.experts import client_for
from tasks.registry import make_benchmark
from tasks.runner import CollectConfig, pending, run_episodes

_PR_SET_PDEATHSIG = 1


def main() -> int:
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
