"""HumanEval: pass@k against hand-computed values, bad data, sandboxed execution of the tests (canonical
solutions pass; hangs, forks, floods and crashes are contained and fail with a reason), and both
modes through the runner."""

import gzip
import json
import os
import subprocess
import sys
import time
from math import comb

import psutil
import pytest

from core.errors import LLMError
from core.llm.scripted import ScriptedClient
from core.rundir import trajectories
from core.trajectory import Outcome, Trajectory
from tasks.collection.config import load_collect_config
from tasks.collection.report import summarize, to_markdown
from tasks.collection.runner import collect
from tasks.humaneval.benchmark import HumanEvalBenchmark, extract_code
from tasks.humaneval.data import Problem, load_problems
from tasks.humaneval.execution import check_all, solve
from tasks.humaneval.passk import pass_at_k, run_pass_at_k

PROBLEMS = load_problems()
ADD = Problem(task_id="Test/0", prompt='def add(a: int, b: int) -> int:\n    """Sum of a and b."""\n',
              canonical_solution="    return a + b\n", entry_point="add",
              test="def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n")


@pytest.mark.parametrize(("n", "c", "k", "expected"), [
    (5, 1, 1, 1 / 5),
    (5, 1, 5, 1.0),
    (5, 2, 2, 1 - 3 / 10),  # 1 - C(3,2)/C(5,2)
    (10, 3, 5, 1 - 21 / 252),  # 1 - C(7,5)/C(10,5)
    (200, 10, 10, 1 - comb(190, 10) / comb(200, 10)),  # exact binomials, not the product form
    (5, 0, 3, 0.0),
    (4, 4, 2, 1.0),
])
def test_pass_at_k_matches_hand_computed_values(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-7)


def test_pass_at_k_refuses_impossible_counts():
    for n, c, k in ((5, 6, 1), (5, 1, 6), (5, 1, 0)):
        with pytest.raises(ValueError, match="pass@k"):
            pass_at_k(n, c, k)


def test_pass_at_k_of_a_run(tmp_path):
    store = trajectories(tmp_path)
    for task, passes in (("humaneval/0", [1, 0, 1, 0, 0]), ("humaneval/1", [0, 0, 0, 0, 0])):
        for trial, ok in enumerate(passes):
            store.append(Trajectory(task_id=task, trial=trial, outcome=Outcome(score=ok, termination="completed")))
    res = run_pass_at_k(tmp_path, (1, 2))
    assert res[1]["mean"] == pytest.approx(0.2) and res[2]["mean"] == pytest.approx(0.35)
    assert res[1]["se"] == pytest.approx(0.2) and res[1]["problems"] == 2  # stdev(0.4, 0) / sqrt(2)
    with pytest.raises(ValueError, match="at least 6 trials"):
        run_pass_at_k(tmp_path, (6,))


def test_problems_load_and_a_malformed_line_names_file_and_line(tmp_path):
    assert len(PROBLEMS) == 164 and PROBLEMS[0].task_id == "HumanEval/0"
    path = tmp_path / "bad.jsonl.gz"
    row = {"task_id": "X/0", "prompt": "def f():\n", "canonical_solution": "    return 1\n", "test": "t",
           "entry_point": "f"}
    with gzip.open(path, "wt") as f:
        f.write(json.dumps(row) + "\n" + json.dumps({**row, "entry_point": ""}) + "\n")
    with pytest.raises(Exception, match=rf"{path}:2.*'entry_point'"):
        load_problems(path)


def test_every_canonical_solution_passes_in_the_sandbox():
    results = solve(concurrency=4)
    assert len(results) == 164
    assert [p.task_id for p, r in results if not r.passed] == []


def _marked(mark):
    def environ(p):
        try:
            return p.environ()
        except (psutil.Error, OSError):
            return {}
    return [p for p in psutil.process_iter() if environ(p).get("MNM_TEST_MARK") == mark]


def test_faulty_solutions_are_contained_and_fail_with_their_reason(tmp_path, monkeypatch):
    mark = f"humaneval-{os.getpid()}"
    monkeypatch.setenv("MNM_TEST_MARK", mark)  # inherited by the workspace server and its workers
    solutions = {
        "right": "    return a + b\n",
        "wrong": "    return a - b\n",
        "full code": "import math\n\ndef add(a, b):\n    return math.fsum([a, b])\n",
        "hangs": "    while True:\n        pass\n",
        "forks": "    import os, time\n    while True:\n        if os.fork() == 0:\n"
                 "            time.sleep(60)\n",
        "floods": "    print('x' * 10_000_000)\n    return a + b + 1\n",
        "exits": "    import os\n    os._exit(0)\n",
        "raises SystemExit": "    raise SystemExit(0)\n",
        "calls complete_task": "    return a + b\ncomplete_task('done', 'x')\n",
        "syntax": "    return a +\n",
        # passes only outside this process: the tests run in a workspace (confined: no writes outside it)
        "runs elsewhere": f"    assert __import__('os').getpid() != {os.getpid()}\n    return a + b\n",
    }
    results = dict(zip(solutions, check_all([(ADD, s) for s in solutions.values()], concurrency=4, timeout_s=3),
                       strict=True))
    assert {k for k, r in results.items() if r.passed} == {"right", "full code", "runs elsewhere"}
    assert results["wrong"].reason == "failed: AssertionError"
    assert results["hangs"].reason == "timed out after 3 s"
    assert results["forks"].reason.startswith(("crashed", "timed out", "failed: BlockingIOError"))
    assert results["floods"].reason == "failed: AssertionError"
    assert results["exits"].reason.startswith("crashed")
    assert results["raises SystemExit"].reason.startswith("failed: SystemExit")
    assert "complete_task" in results["calls complete_task"].reason
    assert results["syntax"].reason.startswith("failed: SyntaxError")
    deadline = time.monotonic() + 20
    while _marked(mark) and time.monotonic() < deadline:  # no forked process outlives the checks
        time.sleep(0.2)
    assert _marked(mark) == []


def test_grade_outside_the_runner():
    bench = HumanEvalBenchmark()
    task = bench.tasks()[2]
    assert bench.grade(task, bench.problems()[task.id].reference) == 1.0
    assert bench.grade(task, task.question + "    return 0\n") == 0.0
    assert bench.grade(task, 42) == 0.0


def test_extract_code_from_a_completion():
    assert extract_code("Here:\n<python>\ndef f():\n    return 1\n</python>\nDone.") == "def f():\n    return 1\n"
    assert extract_code("<python>\n```python\ndef f():\n    return 1\n```\n</python>") == "def f():\n    return 1\n"
    assert extract_code("```python\nx = 1\n```\nand\n```py\nx = 2\n```") == "x = 2\n"
    assert extract_code("<python>\ndef f(): pass") == "def f(): pass\n"  # cut by max_tokens
    assert extract_code("    return 1") == "    return 1\n"


@pytest.mark.parametrize("preset", ["humaneval-test", "humaneval-completion-test"])
def test_both_modes_through_the_runner(tmp_path, preset):
    def config(name, backend):
        return load_collect_config(preset, None, [f"run_dir={tmp_path / name}", "tasks.limit=6", "trials=2",
                                                  f"client.backend={backend}"])

    expert = collect(config("expert", "scripted-expert"), show_progress=False)
    wrong = collect(config("wrong", "scripted-wrong"), show_progress=False)
    assert run_pass_at_k(expert, (1, 2))[2]["mean"] == 1.0 and run_pass_at_k(wrong, (1,))[1]["mean"] == 0.0
    trajs = list(trajectories(wrong))
    assert len(trajs) == 12 and all(t.outcome.detail.startswith("failed:") for t in trajs)
    assert "| wrong | 0.0±0.0 |" in to_markdown(summarize([expert, wrong]))


class _Down(ScriptedClient):
    async def complete(self, request):
        raise LLMError("endpoint http://127.0.0.1:9/v1 unreachable after 3 attempts")


def test_completion_mode_outage_is_counted_apart_from_wrong_answers(tmp_path):
    cfg = load_collect_config("humaneval-completion-test", None, [f"run_dir={tmp_path}", "tasks.limit=3", "trials=1"])
    bench = HumanEvalBenchmark("completion")
    collect(cfg, client=_Down([]), benchmark=bench, show_progress=False)
    r = summarize([tmp_path])["runs"][0]
    assert r["failed"] == 3 and r["wrong"] == 0 and r["terminations"] == {"llm_error": 3}


def test_cli_solve_passk_and_presets(tmp_path):
    def mnm(*args):
        out = subprocess.run([sys.executable, "-m", "mnm_cli", *args], capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        return out.stdout

    listed = mnm("presets")
    assert all(p in listed for p in ("gsm8k-test", "humaneval-test", "humaneval-completion-test"))
    assert "10/10 HumanEval canonical solutions pass" in mnm("humaneval", "solve", "--limit", "10")
    assert "12/12 GSM8K reference answers pass" in mnm("gsm8k", "solve", "--limit", "12")
    mnm("collect", "humaneval-completion-test", "--set", f"run_dir={tmp_path / 'base'}", "--set", "tasks.limit=3",
        "--set", "trials=2", "--quiet")
    table = mnm("humaneval", "passk", str(tmp_path / "base"), "--k", "1", "--k", "2")
    assert "| base | 100.0±0.0 | 100.0±0.0 | 3 |" in table
