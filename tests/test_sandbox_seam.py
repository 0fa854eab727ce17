"""The agent loop runs its cells through the ``Sandbox`` protocol, so another sandbox plugs in.

The sandbox here is a minimal implementation of the protocol written for this test (cells ``exec``
in one dict, in this process: the code is the test's own), not a fake of the workspace: it proves
the seam. Its ``ToolSpec`` names a module that does not exist, so an episode that reached the
real workspace would end in ``workspace_error``.
"""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

from agent.episode import EpisodeSpec, ToolSpec
from agent.loop import continue_episode, run_episode
from agent.workspace import CellResult, WorkspaceConfig
from core.llm.scripted import ScriptedClient


class NamespaceSandbox:
    """Cells run with ``exec`` in one namespace holding the episode's kwargs and ``complete_task``."""

    def __init__(self, episode_kwargs: dict[str, Any]) -> None:
        self.namespace: dict[str, Any] = {**episode_kwargs, "complete_task": self._complete}
        self.cells: list[str] = []
        self.closed = False
        self._completion: dict[str, Any] | None = None

    def _complete(self, report: str, answer: Any) -> None:
        self._completion = {"report": report, "answer": answer}

    async def run(self, code: str) -> CellResult:
        self.cells.append(code)
        self._completion, out, exception = None, io.StringIO(), ""
        try:
            with redirect_stdout(out):
                exec(code, self.namespace)  # the test's own code
        except Exception as e:  # a cell's exception is an observation
            exception = f"{type(e).__name__}: {e}"
        return CellResult(stdout=out.getvalue(), stderr="", exception=exception,
                          status="exception" if exception else "ok", restarted=False, note="", seconds=0.0,
                          completion=self._completion)

    async def close(self, wait: bool = True) -> None:
        self.closed = True


class Opener:
    """An ``OpenSandbox`` that remembers the sandboxes it opened."""

    def __init__(self) -> None:
        self.opened: list[NamespaceSandbox] = []

    async def __call__(self, tools: ToolSpec, episode_kwargs: dict[str, Any] | None = None, answer_type: str = "str",
                       workdir: Path | None = None, config: WorkspaceConfig | None = None,
                       wait: bool = True) -> NamespaceSandbox:
        self.opened.append(NamespaceSandbox(dict(episode_kwargs or {})))
        return self.opened[-1]


SPEC = EpisodeSpec(task_id="seam", description="Double x.", tools=ToolSpec(bind="no_such_module:bind"),
                   episode_kwargs={"x": 21}, init_code="y = 2 * x", max_steps=3)


async def test_the_loop_runs_an_episode_in_a_plugged_in_sandbox() -> None:
    replies = ["Print y.\n</inner_monologue>", "print(y)\nundefined_name\n</run_ipython>",
               "Answer with y.\n</inner_monologue>", "complete_task('doubled', y)\n</run_ipython>"]
    opener = Opener()
    traj = await run_episode(SPEC, ScriptedClient(replies), sandbox=opener)

    assert (traj.outcome.termination, traj.outcome.answer, traj.outcome.report) == ("completed", 42, "doubled")
    [sandbox] = opener.opened
    assert sandbox.cells == ["y = 2 * x", "print(y)\nundefined_name", "complete_task('doubled', y)"]
    assert sandbox.closed
    first = traj.steps[0]
    assert first.status == "exception" and "42" in first.observation and "NameError" in first.observation


async def test_a_continued_episode_replays_its_cells_in_a_fresh_plugged_in_sandbox() -> None:
    replies = ["Print y.\n</inner_monologue>", "y += 1\nprint(y)\n</run_ipython>",
               "Answer.\n</inner_monologue>", "complete_task('incremented', y)\n</run_ipython>"]
    done = await run_episode(SPEC, ScriptedClient(replies), sandbox=Opener())
    history = done.messages[:done.steps[1].first_message]

    opener = Opener()
    resumed = await continue_episode(SPEC, ScriptedClient(replies[2:]), history, [done.steps[0].code], 1,
                                     sandbox=opener)
    assert (resumed.outcome.termination, resumed.outcome.answer) == ("completed", 43)
    assert opener.opened[0].cells == ["y = 2 * x", "y += 1\nprint(y)", "complete_task('incremented', y)"]
