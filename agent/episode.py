"""What the agent needs to run one episode, independent of any benchmark.

A benchmark turns its task into an :class:`EpisodeSpec`: the task text, the expected answer type,
the guideline hint sections, the tool documentation text, the step budget and a :class:`ToolSpec`
telling the sandboxed workspace how to build the tools. Grading happens outside the agent.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from core.messages import HintSet


class ToolSpec(BaseModel):
    """How a workspace process gets its tools.

    ``preload`` (``"module:function"``, optional) is called once per tool kind with
    ``preload_kwargs`` and returns shared read-only state (e.g. multi-GB tables); worker processes
    are forked from the process that holds it, so episodes share it copy-on-write.
    ``bind`` (``"module:function"``) is called in each episode's worker as
    ``bind(shared, **episode_kwargs)`` and returns the namespace of tools (name -> callable).
    """

    bind: str
    preload: str | None = None
    preload_kwargs: dict[str, Any] = Field(default_factory=dict)

    def preload_key(self) -> tuple[str | None, str]:
        """Workspaces whose specs share this key can share one pre-loaded server."""
        return self.preload, repr(sorted(self.preload_kwargs.items()))


class EpisodeSpec(BaseModel):
    task_id: str
    description: str
    answer_type: str = "str"
    hints: HintSet = Field(default_factory=lambda: HintSet(name="none"))
    tool_docs: str = ""
    tool_docs_mode: str = "none"
    max_steps: int = 10
    tools: ToolSpec
    episode_kwargs: dict[str, Any] = Field(default_factory=dict)
    init_code: str | None = None
    workdir: str | None = None  # the worker's cwd, kept after the episode (default: a private temp dir)
    trial: int = 0
    group: str = ""
    template: str = ""
    split: str = ""
    meta: dict[str, Any] = Field(default_factory=dict)
