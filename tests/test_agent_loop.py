"""The agent loop's use of its workspace: the worker starts while the model writes the first step."""

from __future__ import annotations

from pathlib import Path

from agent.episode import EpisodeSpec, ToolSpec
from agent.loop import AgentConfig, run_episode
from agent.workspace import WorkspaceConfig, close_servers
from core.llm.base import Request
from core.llm.scripted import ScriptedClient


async def test_the_worker_starts_while_the_model_writes_its_first_step(tmp_path: Path) -> None:
    """The worker's tools bind only once the first LLM call has been made; the episode still runs."""
    marker = tmp_path / "first-call-made"

    def policy(request: Request) -> str:
        marker.touch()
        if "inner_monologue" in request.prefill:
            return "Look it up.\n</inner_monologue>"
        return "complete_task('done', f'{math.floor(2.5)} {workdir().is_dir()}')\n</run_ipython>"

    spec = EpisodeSpec(task_id="overlap", description="Say 2.",
                       tools=ToolSpec(bind="tests.workspace_tools:bind_when"),
                       episode_kwargs={"marker": str(marker)}, init_code="import math", max_steps=2)
    config = AgentConfig(workspace=WorkspaceConfig(start_timeout_s=10))
    traj = await run_episode(spec, ScriptedClient(policy), config)
    await close_servers()
    assert (traj.outcome.termination, traj.outcome.answer) == ("completed", "2 True"), traj.outcome  # init code ran first


async def test_the_workdir_is_gone_when_the_episode_returns_or_once_servers_close_if_detached() -> None:
    def policy(request: Request) -> str:
        if "inner_monologue" in request.prefill:
            return "Say where I am.\n</inner_monologue>"
        return "complete_task('here', str(workdir()))\n</run_ipython>"

    spec = EpisodeSpec(task_id="where", description="Where?", tools=ToolSpec(bind="tests.workspace_tools:bind"))
    attached = await run_episode(spec, ScriptedClient(policy))
    assert not Path(attached.outcome.answer).exists()
    detached = await run_episode(spec, ScriptedClient(policy), detach_teardown=True)
    await close_servers()
    assert Path(detached.outcome.answer).name.startswith("mnm-workspace-") and not Path(detached.outcome.answer).exists()
