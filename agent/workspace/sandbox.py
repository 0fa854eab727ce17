"""What every sandbox shares: the result of a cell, the sandbox's own error, and the interface the
agent loop runs its cells through.

:class:`~agent.workspace.workspace.Workspace` (a worker process forked by a local server) is one
implementation; another sandbox (a container, a remote worker) plugs into the loop by providing a
:class:`Sandbox` and an :class:`OpenSandbox` (``run_episode(..., sandbox=...)``).
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from core.errors import MnmError

if TYPE_CHECKING:
    from agent.episode import ToolSpec
    from agent.workspace.config import WorkspaceConfig

CellStatus = Literal["ok", "exception", "timeout", "crashed"]


class WorkspaceError(MnmError, OSError):
    """The workspace itself failed (a worker could not be started or bound): our fault, not the agent's.

    It is an ``OSError`` so that callers treating environment failures alike catch it too.
    """


@dataclass
class CellResult:
    """What one cell produced; ``status`` says how it ended and ``note`` explains anything unusual."""

    stdout: str
    stderr: str
    exception: str  # formatted traceback, '' if none
    status: CellStatus
    restarted: bool  # the worker was replaced, so the namespace is fresh
    note: str
    seconds: float
    # set when complete_task ended the episode: {"report", "answer" (JSON-safe), "answer_repr", "answer_type"}
    completion: dict[str, Any] | None = None


class Sandbox(Protocol):
    """A persistent Python namespace with the episode's tools and ``complete_task`` bound in it.

    ``run`` reports everything the cell does (exceptions, timeouts, crashes) as a
    :class:`CellResult` (``completion`` set when ``complete_task`` succeeded) and raises only an
    ``OSError`` (such as :class:`WorkspaceError`) when the sandbox itself fails.
    """

    async def run(self, code: str) -> CellResult: ...

    async def close(self, wait: bool = True) -> None:
        """Release the sandbox; with ``wait=False`` the teardown may go on in the background."""


class OpenSandbox(Protocol):
    """Opens the sandbox of one episode; with ``wait=False`` it may return before the sandbox is
    ready (its first ``run`` then waits)."""

    def __call__(self, tools: ToolSpec, episode_kwargs: dict[str, Any] | None = None, answer_type: str = "str",
                 workdir: Path | None = None, config: WorkspaceConfig | None = None,
                 wait: bool = True) -> Awaitable[Sandbox]: ...
