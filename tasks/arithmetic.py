"""Two-number arithmetic (``a + b``, ``a - b``, ``a * b`` with two- and three-digit numbers): an easy
agentic family for small real models.

The agent has plain Python and ``complete_task``; the answer is an ``int`` and is graded exactly
(:func:`tasks.gsm8k.grade`: ``'408'`` and ``408.0`` count, a text with another or a second number
does not). The questions are generated from a fixed seed: 24 per split (``train``, ``test``), one
template per operation. The hints say how to work here, with an example on other numbers (never the
task's): calculate in Python, and submit the computed value with ``complete_task`` in the same cell.
"""

from __future__ import annotations

import random
from typing import Any

from agent.episode import EpisodeSpec
from agent.scripted import ExpertStep
from core.messages import HintSection, HintSet
from tasks.gsm8k import NO_TOOLS, grade
from tasks.task import Benchmark, PromptConfig, Task

OPERATIONS = {"add": ("+", "the sum of"), "sub": ("-", "the difference between"), "mul": ("*", "the product of")}
PER_SPLIT = 24
MAX_STEPS = 3

HINTS = HintSet(name="arithmetic", sections=[
    HintSection(name="calculate", text="Do the arithmetic in Python, not in your head: write the expression "
                "in the cell."),
    HintSection(name="submit", text="Submit in the same cell as the calculation, the computed value as the "
                "answer, e.g. for 12 times 34: `complete_task('12 * 34', 12 * 34)`."),
])


def questions(split: str, count: int = PER_SPLIT) -> list[Task]:
    """``count`` questions of ``split``, the same on every call (the split's name seeds them)."""
    rng = random.Random(f"arithmetic-{split}")
    tasks = []
    for i in range(count):
        template = list(OPERATIONS)[i % len(OPERATIONS)]
        symbol, words = OPERATIONS[template]
        a, b = rng.randint(10, 999), rng.randint(10, 99)
        tasks.append(Task(id=f"arithmetic/{split}/{i}", benchmark="arithmetic", group="arithmetic",
                          template=template, split=split, question=f"What is {words} {a} and {b} ({a} {symbol} {b})?",
                          answer=str(eval(f"{a} {symbol} {b}")), answer_type="int", max_steps=MAX_STEPS,
                          meta={"expression": f"{a} {symbol} {b}"}))
    return tasks


class ArithmeticBenchmark(Benchmark):
    name = "arithmetic"
    split_roles = {"train": "train", "test": "test"}  # type: ignore[assignment]

    def tasks(self) -> list[Task]:
        return questions("train") + questions("test")

    def episode(self, task: Task, prompt: PromptConfig, trial: int = 0) -> EpisodeSpec:
        return EpisodeSpec(
            task_id=task.id, description=f"{task.question}\nGive the answer as an integer.",
            answer_type=task.answer_type, hints=HINTS if prompt.hints != "none" else HintSet(name="none"),
            max_steps=task.max_steps, tools=NO_TOOLS, trial=trial, group=task.group, template=task.template,
            split=task.split, meta={"preset": prompt.name, "benchmark": self.name},
        )

    def grade(self, task: Task, answer: Any, episode_dir: str | None = None) -> float:
        return grade(answer, task.answer)

    def expert(self, task: Task) -> list[ExpertStep]:
        expression = task.meta["expression"]
        return [ExpertStep(f"I compute {expression} in Python and submit it.",
                           f"complete_task({expression!r}, {expression})")]
