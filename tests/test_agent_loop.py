"""The agent loop: its use of the workspace (the worker starts while the model writes the first step),
and every way an episode goes on or ends: format errors, truncation, the budget, LLM errors, resuming."""

from __future__ import annotations

from pathlib import Path

from agent.episode import EpisodeSpec, ToolSpec
from agent.loop import AgentConfig, continue_episode, run_episode
from agent.scripted import ExpertStep, replay_agent, scripted_agent
from agent.workspace import WorkspaceConfig, close_servers
from core.errors import LLMError
from core.llm.base import Completion, LLMClient, Request
from core.trajectory import Usage
from tasks import sample


async def test_the_worker_starts_while_the_model_writes_its_first_step(tmp_path: Path) -> None:
    """The worker's tools bind only once the first LLM call has been made; the episode still runs."""
    marker = tmp_path / "first-call-made"

    def choose(request: Request) -> ExpertStep:
        marker.touch()
        return ExpertStep("Look it up.", "complete_task('done', f'{math.floor(2.5)} {workdir().is_dir()}')")

    spec = EpisodeSpec(task_id="overlap", description="Say 2.",
                       tools=ToolSpec(bind="tests.workspace_tools:bind_when"),
                       episode_kwargs={"marker": str(marker)}, init_code="import math", max_steps=2)
    config = AgentConfig(workspace=WorkspaceConfig(start_timeout_s=10))
    traj = await run_episode(spec, scripted_agent(choose), config)
    await close_servers()
    assert (traj.outcome.termination, traj.outcome.answer) == ("completed", "2 True"), traj.outcome  # init code ran first


async def test_the_workdir_is_gone_when_the_episode_returns_or_once_servers_close_if_detached() -> None:
    agent = replay_agent([ExpertStep("Say where I am.", "complete_task('here', str(workdir()))")])

    spec = EpisodeSpec(task_id="where", description="Where?", tools=ToolSpec(bind="tests.workspace_tools:bind"))
    attached = await run_episode(spec, agent)
    assert not Path(attached.outcome.answer).exists()
    detached = await run_episode(spec, agent, detach_teardown=True)
    await close_servers()
    assert Path(detached.outcome.answer).name.startswith("mnm-workspace-") and not Path(detached.outcome.answer).exists()


class Replies(LLMClient):
    """Fault injection: each call gets the next reply, a ``(text, finish_reason)`` or an exception to raise."""

    model = "replies"

    def __init__(self, replies: list[tuple[str, str] | Exception]) -> None:
        self.replies = list(replies)

    async def complete(self, request: Request) -> Completion:
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        text, reason = reply
        return Completion(texts=[text], usage=Usage(calls=1), finish_reasons=[reason])


EXPERT = [(text, "stop") for step in sample.EXPERT for text in (step.monologue, step.code)]  # cut at the stop strings


async def test_a_code_block_that_cannot_run_is_a_format_error_step_and_the_episode_goes_on() -> None:
    traj = await run_episode(sample.episode(), Replies([("I start.", "stop"), ("", "stop"), *EXPERT]))
    first = traj.steps[0]
    assert first.status == "format_error" and "empty_code" in first.format_errors
    assert first.observation.startswith("<ipython_output>") and first.code == ""
    assert [s.status for s in traj.steps[1:]] == ["ok", "completed"]
    assert (traj.outcome.termination, traj.outcome.answer) == ("completed", "3.00")


async def test_no_complete_task_within_the_budget_ends_it_as_budget_exhausted() -> None:
    traj = await run_episode(sample.episode(max_steps=2), Replies([("Look.", "stop"), ("print(1)", "stop")] * 2))
    assert traj.outcome.termination == "budget_exhausted" and "2 steps" in traj.outcome.detail
    assert [s.status for s in traj.steps] == ["ok", "ok"] and traj.usage.calls == 4


async def test_truncated_code_never_runs_and_a_truncated_monologue_is_noted() -> None:
    replies = [("I print something and", "length"), ("print('ran')\nprint(", "length"), *EXPERT]
    traj = await run_episode(sample.episode(), Replies(replies))
    first = traj.steps[0]
    assert first.status == "format_error" and first.format_errors.count("truncated") == 2
    assert "ran" not in first.observation
    assert (traj.outcome.termination, traj.outcome.answer) == ("completed", "3.00")


async def test_an_llm_error_ends_the_episode_with_what_was_done_so_far() -> None:
    traj = await run_episode(sample.episode(), Replies([*EXPERT[:2], ("Next.", "stop"), LLMError("endpoint down")]))
    assert traj.outcome.termination == "llm_error" and "endpoint down" in traj.outcome.detail
    assert traj.steps[0].status == "ok" and traj.steps[1].monologue == "Next." and traj.steps[1].code_message is None


async def test_an_episode_resumes_mid_step_with_its_state_rebuilt() -> None:
    """Continue from the status and monologue instruction of step 1: the replayed step-0 cell rebuilt
    ``a`` and ``p`` (the expert's second cell needs them), and step 1 is not started twice."""
    done = await run_episode(sample.episode(), Replies(EXPERT))
    start = next(i for i, m in enumerate(done.messages) if m.step == 1)
    history = done.messages[:start + 2]  # step 1's status and monologue instruction
    resumed = await continue_episode(sample.episode(), Replies(EXPERT[2:]), history, [done.steps[0].code], 1)
    assert (resumed.outcome.termination, resumed.outcome.answer) == ("completed", "3.00")
    assert [s.index for s in resumed.steps] == [1] and resumed.steps[0].first_message == start
    assert [m.kind for m in resumed.messages] == [m.kind for m in done.messages]
