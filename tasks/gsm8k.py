"""GSM8K (1,319 grade-school maths questions) as an agentic benchmark, as the reference ran it.

The question is the task; the agent calculates in its workspace and submits an ``int`` through
``complete_task``. The grader compares numerically with the reference answer (the ``#### N``
line): commas, currency signs, units and a trailing ``.0`` are accepted; an answer with no number,
or with several, is wrong. Data: the test split (1,319 questions) as vendored with ToolQA's
question files (``tasks/toolqa/questions/test/gsm8k-test.jsonl``, under ToolQA's Apache-2.0
``LICENSE`` there; GSM8K itself is MIT-licensed by OpenAI, github.com/openai/grade-school-math).
"""

from __future__ import annotations

import math
import numbers
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.episode import EpisodeSpec, ToolSpec
from agent.scripted import ExpertStep
from core.errors import DataError
from core.store import read_jsonl
from core.trajectory import Trajectory
from tasks.task import Benchmark, PromptConfig, Task

DATA = Path(__file__).parent / "toolqa" / "questions" / "test" / "gsm8k-test.jsonl"
PREAMBLE = ("Solve the maths problem below. You work in a Python (iPython) environment; use it for the "
            "calculations.")
FORMAT_TIP = "Give the final answer as an integer, without units."
MAX_STEPS = 10  # the reference's budget of 20 LLM calls
NO_TOOLS = ToolSpec(bind="agent.workspace.worker:no_tools")  # plain Python and complete_task

_NUMBER = re.compile(r"[-−]?(?:\d+(?:,\d{3})*|\d*)(?:\.\d+)?")


@dataclass(frozen=True)
class Question:
    index: int  # 0-based line of the file
    question: str
    solution: str  # the worked solution, ending in '#### N'
    answer: str  # N as written (may contain commas)


def load_questions(path: str | Path = DATA) -> list[Question]:
    """Every question of a GSM8K JSONL file; a malformed line raises a DataError naming file and line."""
    out = []
    for n, row in read_jsonl(path):
        for key in ("question", "answer"):
            if not isinstance(row.get(key), str):
                raise DataError(f"missing or non-string {key!r}", path=str(path), line=n, field=key)
        if "####" not in row["answer"]:
            raise DataError("the answer has no '#### N' line", path=str(path), line=n, field="answer")
        final = row["answer"].rsplit("####", 1)[1].strip()
        if to_number(final) is None:
            raise DataError(f"the '####' answer {final!r} is not a number", path=str(path), line=n,
                            field="answer")
        out.append(Question(len(out), row["question"], row["answer"], final))
    return out


def to_number(answer: Any) -> float | None:
    """The number an answer states, or None: ints and floats as they are; in text, the one number
    it contains (commas between digit groups, ``$``, ``%`` and unit words ignored)."""
    if isinstance(answer, bool):
        return None
    if isinstance(answer, numbers.Real):
        value = float(answer)
        return value if math.isfinite(value) else None
    if not isinstance(answer, str):
        return None
    found = [m.group() for m in _NUMBER.finditer(answer) if any(c.isdigit() for c in m.group())]
    if len(found) != 1:
        return None
    return float(found[0].replace(",", "").replace("−", "-"))


def grade(answer: Any, reference: str) -> float:
    """1.0 when ``answer`` states exactly the reference number (``18``, ``18.0``, ``'$18'``,
    ``'1,000'`` all equal 18 or 1000), else 0.0."""
    value, gold = to_number(answer), to_number(reference)
    return float(value is not None and gold is not None and value == gold)


class GSM8KBenchmark(Benchmark):
    """The 1,319 test questions, one group (``gsm8k``), no tools but Python."""

    name = "gsm8k"
    split_roles = {"test": "test"}  # type: ignore[assignment]

    def __init__(self, path: str | Path = DATA) -> None:
        self.path = Path(path)
        self._tasks: list[Task] | None = None

    def tasks(self) -> list[Task]:
        if self._tasks is None:
            self._tasks = [Task(id=f"gsm8k/test/{q.index}", benchmark=self.name, group="gsm8k", template="gsm8k",
                                split="test", question=q.question, answer=q.answer, answer_type="int",
                                max_steps=MAX_STEPS, meta={"line": q.index + 1})
                           for q in load_questions(self.path)]
        return self._tasks

    def episode(self, task: Task, prompt: PromptConfig, trial: int = 0) -> EpisodeSpec:
        return EpisodeSpec(
            task_id=task.id, description=f"{PREAMBLE}\n\nQuestion: {task.question}\n{FORMAT_TIP}",
            answer_type=task.answer_type, max_steps=task.max_steps, tools=NO_TOOLS,
            trial=trial, group=task.group, template=task.template, split=task.split,
            meta={"preset": prompt.name, "benchmark": self.name},
        )

    def grade(self, task: Task, answer: Any, episode_dir: str | None = None) -> float:
        return grade(answer, task.answer)

    def expert(self, task: Task) -> list[ExpertStep]:
        """Submit the reference answer (as an int) from the workspace."""
        value = to_number(task.answer)
        return [ExpertStep(f"The reference answer is {task.answer}.",
                           f"complete_task('reference answer', {int(value)})")]


def solve(limit: int | None = None, concurrency: int = 32, seed: int = 0) -> list[Trajectory]:
    """Run the reference answers through the whole pipeline (the runner, the agent loop, a sandboxed
    workspace per question, ``complete_task`` and the grader) with the scripted expert; return the
    graded trajectories (all should succeed). ``limit``: a random subset of that many questions."""
    from core.rundir import load_run
    from tasks.collection.config import CollectConfig, TaskSelection
    from tasks.collection.runner import collect

    with tempfile.TemporaryDirectory(prefix="mnm-gsm8k-solve-") as run_dir:
        config = CollectConfig(run_dir=Path(run_dir), preset="gsm8k-reference", concurrency=concurrency,
                               tasks=TaskSelection(benchmark="gsm8k", limit=limit, seed=seed))
        collect(config, benchmark=GSM8KBenchmark(), show_progress=False)
        return load_run(run_dir)
