"""A built-in sample task (a tiny price lookup) for `mnm run-task` and the agent's tests.

It needs no corpus: its tools are bound from :mod:`tasks.sample_tools`, and :data:`EXPERT` is a
correct scripted solution (:func:`agent.scripted.replay_agent` plays it).
"""

from __future__ import annotations

from agent.episode import EpisodeSpec, ToolSpec
from agent.scripted import ExpertStep
from core.messages import HintSection, HintSet
from tasks.sample_tools import bind
from tasks.task import Benchmark, PromptConfig, Task

QUESTION = "How much do 3 apples and 2 pears cost together? Answer with two decimals, e.g. '4.20'."
ANSWER = "3.00"

HINTS = HintSet(name="sample", sections=[
    HintSection(name="prices", text="Look prices up with `get_price(item)`; item names are singular."),
    HintSection(name="format", text="Format the total with two decimals: f'{total:.2f}'."),
])


def tool_docs() -> str:
    return "\n\n".join(f"{name}: {fn.__doc__}" for name, fn in bind().items())


def episode(hints: bool = True, max_steps: int = 4) -> EpisodeSpec:
    return EpisodeSpec(
        task_id="sample/prices", description=QUESTION, answer_type="str",
        hints=HINTS if hints else HintSet(name="none"),
        tool_docs=tool_docs() if hints else "", tool_docs_mode="long" if hints else "none",
        max_steps=max_steps, tools=ToolSpec(bind="tasks.sample_tools:bind"), group="sample", template="prices",
    )


EXPERT = [  # a correct two-step solution
    ExpertStep("I need the unit prices of apple and pear.", "a, p = get_price('apple'), get_price('pear')\nprint(a, p)"),
    ExpertStep("Apples cost 0.5 and pears 0.75, so the total is 3*0.5 + 2*0.75 = 3.00.",
               "total = 3 * a + 2 * p\nprint(f'{total:.2f}')\ncomplete_task('3 apples and 2 pears', f'{total:.2f}')"),
]


def grade(answer: object) -> float:
    return float(str(answer).strip() == ANSWER)


class SampleBenchmark(Benchmark):
    """The sample task as a one-task benchmark (for the runner's tests and smoke runs)."""

    name = "sample"

    def tasks(self) -> list[Task]:
        return [Task(id="sample/prices", benchmark="sample", group="sample", template="prices",
                     split="test", question=QUESTION, answer=ANSWER, max_steps=4)]

    def episode(self, task: Task, prompt: PromptConfig, trial: int = 0) -> EpisodeSpec:
        spec = episode(hints=prompt.hints != "none", max_steps=task.max_steps)
        spec.trial = trial
        return spec

    def grade(self, task: Task, answer: object, episode_dir: str | None = None) -> float:
        return grade(answer)

    def expert(self, task: Task) -> list[ExpertStep]:
        return list(EXPERT)
