"""Running a HumanEval solution against its tests, in a sandboxed workspace, never in this process.

Each check forks a fresh worker (:mod:`agent.workspace`) and runs the program ``prompt +
solution + test + check(entry_point)`` as one cell under a wall-clock limit, so a solution that
hangs, forks, floods its output or kills its process is contained like any agent cell and counted
as a failure with its reason. Checks run concurrently, one workspace each.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass

from agent.episode import ToolSpec
from agent.workspace import WorkspaceConfig, close_servers, open_workspace
from core.asyncio_compat import run_sync
from tasks.humaneval.data import Problem

TIMEOUT_S = 30.0  # per problem, as the reference ran it
TOOLS = ToolSpec(bind="agent.workspace.worker:no_tools")


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    reason: str  # "passed", or why not (the exception's last line, a timeout, a crash)


def program(problem: Problem, solution: str) -> str:
    """The test program. ``solution`` is either complete code that defines the entry point (it is
    run after the prompt, whose imports and helpers it may use) or the continuation of the prompt."""
    defines = re.search(rf"^\s*def\s+{re.escape(problem.entry_point)}\s*\(", solution, re.MULTILINE)
    code = f"{problem.prompt}    pass\n\n{solution}" if defines else problem.prompt + solution
    return f"{code}\n\n{problem.test}\n\ncheck({problem.entry_point})\n"


async def check(problem: Problem, solution: str, timeout_s: float = TIMEOUT_S) -> CheckResult:
    """Run ``solution``'s tests in a fresh sandboxed workspace."""
    config = WorkspaceConfig(cell_timeout_s=timeout_s)
    async with await open_workspace(TOOLS, config=config) as workspace:
        result = await workspace.run(program(problem, solution))
    if result.completion is not None:
        return CheckResult(False, "the solution called complete_task, so the tests did not run")
    if result.status == "ok":
        return CheckResult(True, "passed")
    if result.status == "timeout":
        return CheckResult(False, f"timed out after {timeout_s:g} s")
    if result.status == "crashed":
        return CheckResult(False, f"crashed: {result.note}")
    last = result.exception.strip().splitlines()[-1] if result.exception.strip() else "exception"
    return CheckResult(False, f"failed: {last}")


async def check_many(pairs: Sequence[tuple[Problem, str]], concurrency: int = 8,
                     timeout_s: float = TIMEOUT_S) -> list[CheckResult]:
    """Check ``(problem, solution)`` pairs with up to ``concurrency`` workspaces at once, in order."""
    sem = asyncio.Semaphore(concurrency)

    async def one(problem: Problem, solution: str) -> CheckResult:
        async with sem:
            return await check(problem, solution, timeout_s)

    try:
        return await asyncio.gather(*(one(p, s) for p, s in pairs))
    finally:
        await close_servers()


def check_all(pairs: Sequence[tuple[Problem, str]], concurrency: int = 8,
              timeout_s: float = TIMEOUT_S) -> list[CheckResult]:
    """Synchronous :func:`check_many` (scripts, cells, the CLI)."""
    return run_sync(check_many(pairs, concurrency, timeout_s))


def solve(path: str | None = None, limit: int | None = None, concurrency: int = 8,
          timeout_s: float = TIMEOUT_S) -> list[tuple[Problem, CheckResult]]:
    """Check every problem's canonical solution (the first ``limit``) in the sandbox; all should pass."""
    from tasks.humaneval.data import load_problems

    problems = load_problems(path)[:limit]
    return list(zip(problems, check_all([(p, p.reference) for p in problems], concurrency, timeout_s), strict=True))
