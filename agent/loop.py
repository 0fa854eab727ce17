"""The ReAct loop: status, inner monologue, code cell, observation; until ``complete_task``.

The budget is counted in **steps** (one monologue + one code cell each). The paper's reference
counted LLM calls, two per step, so its "budget 20" is ``max_steps=10`` here. The loop never
raises for model or endpoint misbehaviour: every way an episode can end is a termination reason
in the returned :class:`core.trajectory.Trajectory` (grading happens outside, in the runner).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import model_validator

from agent import prompt as P
from agent.episode import EpisodeSpec
from agent.parsing import parse_code, parse_monologue
from agent.workspace import CellResult, OpenSandbox, Sandbox, WorkspaceConfig, open_workspace
from core.config import Config
from core.errors import LLMError
from core.llm.base import Completion, LLMClient, Request
from core.llm.sampling import SAMPLING, SamplingName
from core.messages import Message, to_chat
from core.trajectory import Outcome, PromptInfo, Step, Trajectory, Usage


class AgentConfig(Config):
    """Sampling and execution settings of the agent (the task decides the budget).

    ``sampling`` names a setting of :data:`core.llm.sampling.SAMPLING` (``greedy``, ``sampled``,
    ``reference``) that fills ``temperature``, ``top_p`` and ``min_p`` where they are not given
    explicitly. The runner gives each episode a seed derived from ``seed``, the task and the trial.
    """

    sampling: SamplingName | None = None
    temperature: float | None = 0.0
    top_p: float | None = None
    min_p: float | None = None
    max_tokens: int = 1000
    seed: int | None = None
    format_reminders: bool = True
    max_steps: int | None = None  # overrides the task's budget when set
    workspace: WorkspaceConfig = WorkspaceConfig()

    @model_validator(mode="before")
    @classmethod
    def _named_sampling(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("sampling") in SAMPLING:
            return {**SAMPLING[data["sampling"]], **data}
        return data


StepCallback = Callable[[Trajectory, Step], None]


def format_observation(result: CellResult, cell: int) -> str:
    """The ``<ipython_output>`` message for one executed cell."""
    pieces = []
    for name, text in (("stdout", result.stdout), ("stderr", result.stderr), ("exception", result.exception)):
        if text:
            pieces.append(f"<{name}#{cell}>\n{text.rstrip()}\n</{name}#{cell}>")
    if result.note:
        pieces.append(f"<note#{cell}>\n{result.note}\n</note#{cell}>")
    body = "\n".join(pieces) if pieces else "(the cell ran and printed nothing)"
    return f"<ipython_output>\n{body}\n</ipython_output>"


class _Episode:
    """State of one running episode; :func:`run_episode` is the public entry point."""

    def __init__(self, spec: EpisodeSpec, client: LLMClient, config: AgentConfig,
                 on_step: StepCallback | None, history: list[Message] | None = None,
                 replay: list[str] = (), first_step: int = 0, detach_teardown: bool = False,
                 sandbox: OpenSandbox = open_workspace) -> None:
        self.spec, self.client, self.config, self.on_step = spec, client, config, on_step
        self.sandbox = sandbox
        self.replay, self.first_step = list(replay), first_step
        self.detach_teardown = detach_teardown
        self.max_steps = config.max_steps or spec.max_steps
        self.traj = Trajectory(
            task_id=spec.task_id, trial=spec.trial, group=spec.group, template=spec.template,
            split=spec.split, model=client.model,
            prompt=PromptInfo(preset=spec.meta.get("preset", ""), hint_set=spec.hints.name,
                              hint_sections=[s.name for s in spec.hints.sections],
                              tool_docs=spec.tool_docs_mode),  # type: ignore[arg-type]
            messages=history if history is not None
            else P.preamble(spec.description, spec.answer_type, spec.hints, spec.tool_docs),
            meta=dict(spec.meta),
        )

    def _add(self, message: Message) -> int:
        self.traj.messages.append(message)
        return len(self.traj.messages) - 1

    async def _ask(self, tag: str, step: Step) -> tuple[str, str | None]:
        """The response and, when the backend cut it short (``length``, ``repetition``), its finish reason."""
        c = self.config
        request = Request(messages=to_chat(self.traj.messages), prefill=P.open_tag(tag),
                          stop=[P.close_tag(tag)], temperature=c.temperature, top_p=c.top_p,
                          min_p=c.min_p, max_tokens=c.max_tokens, seed=c.seed)
        start = time.perf_counter()
        completion: Completion = await self.client.complete(request)
        step.llm_seconds += time.perf_counter() - start
        step.usage = step.usage + completion.usage
        if completion.token_ids:  # on-policy training checks its targets against them (filters.on_policy)
            step.token_ids["monologue" if tag == P.MONOLOGUE_TAG else "code"] = completion.token_ids[0]
        reason = completion.finish_reasons[0] if completion.finish_reasons else None
        return completion.text, reason if reason in ("length", "repetition") else None

    async def run(self) -> Trajectory:
        self.traj.started_at = time.time()
        start = time.perf_counter()
        try:  # the worker starts while the model writes the first monologue
            ws = await self.sandbox(
                tools=self.spec.tools, episode_kwargs=self.spec.episode_kwargs,
                answer_type=self.spec.answer_type, config=self.config.workspace,
                workdir=Path(self.spec.workdir) if self.spec.workdir else None, wait=False,
            )
            try:
                await self._loop(ws)
            finally:  # a workdir of the caller's is graded afterwards: its processes must be gone first
                await ws.close(wait=not self.detach_teardown or self.spec.workdir is not None)
        except LLMError as e:
            self._end("llm_error", str(e))
        except OSError as e:
            self._end("workspace_error", f"{type(e).__name__}: {e}")
        self.traj.usage = sum((s.usage for s in self.traj.steps), Usage())
        self.traj.wall_seconds = time.perf_counter() - start
        return self.traj

    def _end(self, termination: str, detail: str = "", **outcome: Any) -> None:
        self.traj.outcome = Outcome(termination=termination, detail=detail, **outcome)  # type: ignore[arg-type]

    async def _loop(self, ws: Sandbox) -> None:
        setup = asyncio.ensure_future(self._setup(ws))  # runs while the model writes its first step
        try:
            await self._steps(ws, setup)
        finally:
            setup.cancel()
            await asyncio.gather(setup, return_exceptions=True)

    async def _setup(self, ws: Sandbox) -> None:
        """The task's init code and the replayed cells, which the first cell of the model runs after."""
        for cell in ([self.spec.init_code] if self.spec.init_code else []) + self.replay:
            await ws.run(cell)

    async def _steps(self, ws: Sandbox, setup: asyncio.Future[None]) -> None:
        reminders = self.config.format_reminders
        for k in range(self.first_step, self.max_steps):
            if k > self.first_step or not self._resumes_mid_step():
                first = self._add(P.status_message(k, self.max_steps))
                self._add(P.monologue_instruction(k, reminders))
            else:
                first = self._step_start(k)
            step = Step(index=k, first_message=first)
            self.traj.steps.append(step)

            text, cut = await self._ask(P.MONOLOGUE_TAG, step)
            mono = parse_monologue(text, cut)
            step.monologue_message = self._add(P.assistant_message(P.MONOLOGUE_TAG, mono.body, k))
            step.monologue = mono.body
            self._add(P.code_instruction(k, reminders))

            text, cut = await self._ask(P.CODE_TAG, step)
            code = parse_code(text, cut)
            step.code_message = self._add(P.assistant_message(P.CODE_TAG, code.body, k))
            step.code = code.body
            step.format_errors = mono.problems + code.problems

            if code.error is not None:
                step.status, step.observation = "format_error", f"<ipython_output>\n{code.error}\n</ipython_output>"
            else:
                await setup
                t0 = time.perf_counter()
                result = await ws.run(code.body)
                step.exec_seconds = time.perf_counter() - t0
                step.status = "completed" if result.completion is not None else result.status
                step.observation = format_observation(result, k + 1)
            self._add(P.observation_message(step.observation, k))
            if self.on_step:
                self.on_step(self.traj, step)
            if step.status == "completed":
                done = result.completion or {}
                self._end("completed", answer=done.get("answer"), report=done.get("report"))
                return
        self._end("budget_exhausted", f"no complete_task call within {self.max_steps} steps")


    def _resumes_mid_step(self) -> bool:
        """True when the given history already ends inside step ``first_step`` (before its monologue)."""
        msgs = self.traj.messages
        return bool(msgs) and msgs[-1].step == self.first_step and msgs[-1].role == "user"

    def _step_start(self, k: int) -> int:
        return next(i for i, m in enumerate(self.traj.messages) if m.step == k)


async def run_episode(spec: EpisodeSpec, client: LLMClient, config: AgentConfig | None = None,
                      on_step: StepCallback | None = None, *, detach_teardown: bool = False,
                      sandbox: OpenSandbox = open_workspace) -> Trajectory:
    """Run one episode of ``spec`` with ``client``; never raises for model or endpoint faults.

    Its cells run in the sandbox that ``sandbox`` opens (by default a workspace forked by this
    process's workspace server; see :mod:`agent.workspace.sandbox`).

    With ``detach_teardown`` it returns as soon as the result is known and a workspace-created
    workdir's worker is torn down in the background, for a caller that ends with
    :func:`agent.workspace.close_servers` (which waits for it), as the runner does.
    """
    return await _Episode(spec, client, config or AgentConfig(), on_step, detach_teardown=detach_teardown,
                          sandbox=sandbox).run()


async def continue_episode(spec: EpisodeSpec, client: LLMClient, history: list[Message],
                           replay: list[str], first_step: int, config: AgentConfig | None = None,
                           sandbox: OpenSandbox = open_workspace) -> Trajectory:
    """Continue an episode from a recorded state.

    ``history`` is the conversation so far; if it ends inside step ``first_step`` (its status and
    monologue instruction, possibly followed by a corrective hint) the step continues from there.
    ``replay`` are the code cells that ran before (re-executed silently in a fresh workspace to
    rebuild its state). The returned trajectory's ``steps`` are the new steps only.
    """
    episode = _Episode(spec, client, config or AgentConfig(), None, history=history, replay=replay,
                       first_step=first_step, sandbox=sandbox)
    return await episode.run()
