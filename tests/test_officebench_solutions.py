"""OfficeBench reference solutions: tools and evaluator agree (all pass under ``corrected``)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from agent.workspace import open_workspace
from tasks.officebench.benchmark import OfficeBenchmark
from tasks.officebench.solutions import NEEDS, SOLUTIONS, run_solution, runnable, solve
from tasks.task import PromptConfig


def test_at_least_ten_solutions_per_app_count():
    counts = Counter(task_id.split("-")[0] for task_id in SOLUTIONS)
    assert all(counts[n] >= 10 for n in "123"), counts


# Solutions that call LibreOffice or Tesseract take seconds each: marked slow (run with -m slow).
@pytest.mark.parametrize("task_id", [pytest.param(i, marks=pytest.mark.slow) if NEEDS[i] else i for i in SOLUTIONS])
def test_reference_solution_passes_under_corrected(task_id, tmp_path):
    if not runnable(task_id):
        pytest.skip(f"needs {', '.join(NEEDS[task_id])}: run tasks/officebench/install_system_deps.sh")
    result = run_solution(task_id, tmp_path)
    assert result.passed, result.failures


@pytest.mark.parametrize("task_id", ["1-14/2", "1-22/1", "2-26/3", "2-48/0", "3-8/0", "3-8/6", "3-24/0", "3-58/0", "3-82/0"])
def test_defects_make_faithful_solutions_fail_under_original(task_id, tmp_path):
    result = run_solution(task_id, tmp_path, errata="original")
    assert not result.passed and result.failures


def test_solve_reports_each_solution(tmp_path):
    results = solve(["officebench/1-1/0", "2-43/0"], workdir=tmp_path)
    assert [(r.task_id, r.passed) for r in results] == [("officebench/1-1/0", True), ("officebench/2-43/0", True)]


def test_expert_steps_run_in_the_workspace_and_grade_from_the_episode_directory(tmp_path):
    bench = OfficeBenchmark()
    task = next(t for t in bench.tasks() if t.id == "officebench/1-22/4")
    spec = bench.episode(task, PromptConfig(), trial=0)
    episode_dir = OfficeBenchmark.episode_path(tmp_path, task, 0)
    episode_dir.mkdir(parents=True)

    async def run() -> dict:  # the episode directory is the workspace's working directory, its only writable one
        async with await open_workspace(spec.tools, {**spec.episode_kwargs, "episode_dir": str(episode_dir)},
                                        spec.answer_type, workdir=episode_dir) as ws:
            for step in bench.expert(task):
                result = await ws.run(step.code)
        return result.completion

    completion = asyncio.run(run())
    assert completion["answer"] == "93"
    assert bench.grade(task, completion["answer"], str(episode_dir)) == 1.0
    assert bench.expert(next(t for t in bench.tasks() if t.id == "officebench/3-3/0"))[0].code.startswith(
        "complete_task")
