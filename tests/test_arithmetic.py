"""The arithmetic family: fixed questions per split, exact grading, and its expert solves every task
through the whole runner (agent loop, workspace, complete_task, grader)."""

from agent.loop import AgentConfig
from core.rundir import load_run
from tasks.arithmetic import ArithmeticBenchmark, questions
from tasks.collection.config import CollectConfig, TaskSelection
from tasks.collection.runner import collect
from tasks.registry import make_benchmark
from tasks.task import PromptConfig


def test_questions_are_fixed_per_split_and_answers_are_their_expressions():
    train, test = questions("train"), questions("test")
    assert train == questions("train") and len(train) == len(test) == 24
    assert not {t.question for t in train} & {t.question for t in test}
    assert {t.template for t in train} == {"add", "sub", "mul"}
    for task in train + test:
        a, symbol, b = task.meta["expression"].split()
        assert int(task.answer) == {"+": int(a) + int(b), "-": int(a) - int(b), "*": int(a) * int(b)}[symbol]


def test_grading_is_exact_and_hints_are_dropped_without_them():
    bench = make_benchmark("arithmetic")
    task = bench.tasks()[0]
    assert bench.grade(task, int(task.answer)) == 1.0 and bench.grade(task, f"{task.answer}.0") == 1.0
    assert bench.grade(task, int(task.answer) + 1) == 0.0 and bench.grade(task, f"{task.answer} or 3") == 0.0
    with_hints = bench.episode(task, PromptConfig(hints="task"))
    assert [s.name for s in with_hints.hints.sections] == ["calculate", "submit"]
    assert task.meta["expression"] not in str(with_hints.hints)  # the example is on other numbers
    assert not bench.episode(task, PromptConfig(hints="none")).hints.sections


def test_the_expert_solves_every_task_through_the_runner(tmp_path):
    cfg = CollectConfig(run_dir=tmp_path, tasks=TaskSelection(benchmark="arithmetic", limit=6),
                        agent=AgentConfig(), concurrency=6)
    collect(cfg, benchmark=ArithmeticBenchmark(), show_progress=False)
    trajectories = load_run(tmp_path)
    assert len(trajectories) == 6 and all(t.outcome.score == 1.0 for t in trajectories)
